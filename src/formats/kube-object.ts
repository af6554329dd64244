/** The shape of a Kubernetes object as plain JSON, shared by the product and the sandbox (no EKS knowledge). */

/** A Kubernetes object as plain JSON. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};
