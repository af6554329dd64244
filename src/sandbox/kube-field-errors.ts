/**
 * The API server's field errors and their wording, from Kubernetes' own source (apimachinery v0.33.4, that is
 * Kubernetes v1.33): `pkg/util/validation/field/errors.go` (ErrorType, ErrorBody), `pkg/util/validation/validation.go`
 * (the name and key rules and their messages) and `pkg/util/errors/errors.go` (an aggregate's `[a, b]`).
 */

/** field.ErrorType: the `reason` of a cause in a 422 Status. */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueDuplicate'
  | 'FieldValueNotFound'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong';

/** One field.Error: its type, its path (`spec.template.spec.containers[0].env[3].name`) and ErrorBody(). */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** `Required value`, `Invalid value: "x": detail`, …: the message without the field. */
  body: string;
}

/** A Go value as field.Error prints it: %q for strings, %v for numbers and booleans, or a Go literal already spelled. */
export type GoValue = string | number | boolean | { go: string };

function printed(value: GoValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return value.go;
  return String(value);
}

const withDetail = (text: string, detail: string): string => (detail ? `${text}: ${detail}` : text);

/** field.Required */
export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, body: withDetail('Required value', detail) });
/** field.Invalid */
export const invalid = (field: string, value: GoValue, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  body: withDetail(`Invalid value: ${printed(value)}`, detail),
});
/** field.Duplicate */
export const duplicate = (field: string, value: GoValue): FieldError => ({ type: 'FieldValueDuplicate', field, body: `Duplicate value: ${printed(value)}` });
/** field.NotFound */
export const notFound = (field: string, value: GoValue): FieldError => ({ type: 'FieldValueNotFound', field, body: `Not found: ${printed(value)}` });
/** field.NotSupported: the supported values quoted, in the order given (Go passes sets.List, which is sorted). */
export const notSupported = (field: string, value: GoValue, supported: string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  body: withDetail(`Unsupported value: ${printed(value)}`, supported.length ? `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}` : ''),
});
/** field.Forbidden */
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, body: withDetail('Forbidden', detail) });

/** Error(): `field: body`. */
export const errorText = (e: FieldError): string => `${e.field}: ${e.body}`;

/** utilerrors.NewAggregate(...).Error(): one message alone, several as `[a, b]`, repeats dropped. */
export function aggregateText(errors: FieldError[]): string {
  const seen = [...new Set(errors.map(errorText))];
  return seen.length === 1 ? (seen[0] as string) : `[${seen.join(', ')}]`;
}

// ---- pkg/util/validation/validation.go ----

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const ENV_VAR_NAME = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const CONFIG_MAP_KEY = '[-._a-zA-Z0-9]+';
const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);

/** MaxLenError */
const maxLenError = (length: number): string => `must be no more than ${length} characters`;

/** RegexError */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  // Go appends "'example', " per example and " or " between them: "(e.g. 'my-name',  or '123-abc', regex …".
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

/** hasChDirPrefix */
function chDir(value: string): string[] {
  if (value === '.') return [`must not be '.'`];
  if (value === '..') return [`must not be '..'`];
  if (value.startsWith('..')) return [`must not start with '..'`];
  return [];
}

/** IsDNS1123Label */
export function isDns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!anchored(DNS1123_LABEL).test(value)) {
    if (anchored(DNS1123_SUBDOMAIN).test(value)) errs.push('must not contain dots');
    else
      errs.push(
        regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, 'my-name', '123-abc'),
      );
  }
  return errs;
}

/** IsDNS1123Subdomain (apimachinery's NameIsDNSSubdomain for object names) */
export function isDns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!anchored(DNS1123_SUBDOMAIN).test(value)) {
    errs.push(
      regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, 'example.com'),
    );
  }
  return errs;
}

/** IsEnvVarName (the rule before RelaxedEnvironmentVariableValidation) */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!anchored(ENV_VAR_NAME).test(value)) {
    errs.push(
      regexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit", ENV_VAR_NAME, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'),
    );
  }
  return [...errs, ...chDir(value)];
}

/** IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation, on by default from Kubernetes 1.32) */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push('environment variable name must be non-empty');
  if ([...value].some((ch) => ch.charCodeAt(0) > 0x7e || ch.charCodeAt(0) < 0x20 || ch === '=')) {
    errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
  }
  return errs;
}

/** IsConfigMapKey */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!anchored(CONFIG_MAP_KEY).test(value)) {
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_MAP_KEY, 'key.name', 'KEY_NAME', 'key-name'));
  }
  return [...errs, ...chDir(value)];
}

/** IsValidPortNum */
export const isValidPortNum = (port: number): string[] => (Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive']);

/** IsValidPortName (IANA_SVC_NAME) */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.startsWith('-') || port.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

// ---- pkg/api/resource/quantity.go ----

/** splitREString, as ErrFormatWrong quotes it. */
export const QUANTITY_FORMAT = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A resource.Quantity's value, or the parse error ParseQuantity returns (ErrFormatWrong, ErrNumeric, ErrSuffix). */
export function parseQuantity(raw: unknown): { value: number } | { error: string } {
  if (typeof raw === 'number') return { value: raw };
  if (typeof raw !== 'string') return { error: `quantities must match the regular expression '${QUANTITY_FORMAT}'` };
  const m = new RegExp(QUANTITY_FORMAT).exec(raw.trim());
  if (!m || raw.trim() === '') return { error: `quantities must match the regular expression '${QUANTITY_FORMAT}'` };
  const [, number = '', suffix = ''] = m;
  const numeric = Number(number);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(number) || Number.isNaN(numeric)) return { error: 'unable to parse numeric part of quantity' };
  let scale: number | undefined = BINARY[suffix] ?? DECIMAL[suffix];
  if (scale === undefined && /^[eE][-+]?\d+$/.test(suffix)) scale = 10 ** Number(suffix.slice(1));
  if (scale === undefined) return { error: "unable to parse quantity's suffix" };
  return { value: numeric * scale };
}

const DECIMAL_EXPONENTS: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_POWERS: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const SUFFIX_OF_EXPONENT: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };

/** The decimal form: the largest exponent that is a multiple of 3 with an integer mantissa (AsCanonicalBytes). */
function decimalForm(mantissa: bigint, exponent: number, exponentFormat: boolean): string {
  let n = mantissa;
  let e = exponent;
  while (n !== 0n && n % 10n === 0n) {
    n /= 10n;
    e += 1;
  }
  const e3 = Math.floor(e / 3) * 3;
  n *= 10n ** BigInt(e - e3);
  if (exponentFormat) return e3 === 0 ? `${n}` : `${n}e${e3}`;
  const suffix = SUFFIX_OF_EXPONENT[e3];
  return suffix === undefined ? `${n}e${e3}` : `${n}${suffix}`;
}

/**
 * Quantity.String(): the canonical form the API server prints a quantity in (CanonicalizeBytes), for the forms
 * that parse: `2000m` → `2`, `0.5` → `500m`, `1000` → `1k`, `1024Mi` → `1Gi`, `1.5Gi` → `1536Mi`, `1e3` → `1e3`.
 * What does not parse is printed as given. Sub-nano values (rounded up by Go) are out of scope.
 */
export function canonicalQuantity(raw: unknown): string {
  if (typeof raw === 'number') raw = String(raw);
  if (typeof raw !== 'string') return String(raw);
  const m = new RegExp(QUANTITY_FORMAT).exec(raw.trim());
  if (!m || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(m[1] as string)) return raw;
  const [, number = '', suffix = ''] = m;
  const negative = number.startsWith('-');
  const [whole = '', fraction = ''] = number.replace(/^[+-]/, '').split('.');
  let mantissa = BigInt(`${whole}${fraction}` || '0') * (negative ? -1n : 1n);
  let exponent = -fraction.length;
  if (mantissa === 0n) return '0';
  if (suffix in BINARY_POWERS) {
    mantissa *= 1024n ** BigInt(BINARY_POWERS[suffix] as number);
    // An integer value of at least 1024 stays binary (the largest power of 1024 dividing it); the rest is DecimalSI.
    const scale = 10n ** BigInt(-exponent);
    if (mantissa % scale === 0n && (mantissa / scale >= 1024n || mantissa / scale <= -1024n)) {
      let value = mantissa / scale;
      let power = 0;
      while (power < 6 && value % 1024n === 0n) {
        value /= 1024n;
        power++;
      }
      return `${value}${power === 0 ? '' : (Object.keys(BINARY_POWERS)[power - 1] as string)}`;
    }
    return decimalForm(mantissa, exponent, false);
  }
  if (suffix in DECIMAL_EXPONENTS) return decimalForm(mantissa, exponent + (DECIMAL_EXPONENTS[suffix] as number), false);
  exponent += Number(suffix.slice(1));
  return decimalForm(mantissa, exponent, true);
}
