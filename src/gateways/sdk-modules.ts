/**
 * The AWS SDK's modules, each imported once per process. A dynamic `import()` of a CommonJS package is not
 * free in the bundle: each call wraps the module again (a copy of its hundreds of exports), so a gateway that
 * imports on its first call pays that once per gateway, which a fleet run builds per cluster. Here the
 * first call imports and every later one gets the same module.
 */

let eks: Promise<typeof import('@aws-sdk/client-eks')> | undefined;
let iam: Promise<typeof import('@aws-sdk/client-iam')> | undefined;
let sts: Promise<typeof import('@aws-sdk/client-sts')> | undefined;
let signatureV4: Promise<typeof import('@smithy/signature-v4')> | undefined;

/** @aws-sdk/client-eks. */
export const eksSdk = (): Promise<typeof import('@aws-sdk/client-eks')> => (eks ??= import('@aws-sdk/client-eks'));
/** @aws-sdk/client-iam. */
export const iamSdk = (): Promise<typeof import('@aws-sdk/client-iam')> => (iam ??= import('@aws-sdk/client-iam'));
/** @aws-sdk/client-sts. */
export const stsSdk = (): Promise<typeof import('@aws-sdk/client-sts')> => (sts ??= import('@aws-sdk/client-sts'));
/** @smithy/signature-v4 (the in-process EKS token). */
export const signatureV4Sdk = (): Promise<typeof import('@smithy/signature-v4')> => (signatureV4 ??= import('@smithy/signature-v4'));
