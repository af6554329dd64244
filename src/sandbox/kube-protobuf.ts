/**
 * Decodes the Kubernetes protobuf bodies kubectl 1.32 and later send for its typed commands (`create configmap`,
 * `create secret`, `create namespace`, `create serviceaccount`, `auth can-i`): the `k8s\0` envelope
 * (runtime.Unknown) and the few messages those commands carry, field numbers from k8s.io/api generated.proto.
 * Other kinds answer undefined, and the server then refuses the body with 415.
 */
type Json = Record<string, unknown>;

interface Field {
  num: number;
  wire: number;
  /** Varint value (wire 0) or bytes (wire 2). */
  value: number | Buffer;
}

function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) out.push({ num, wire, value: varint() });
    else if (wire === 2) {
      const length = varint();
      out.push({ num, wire, value: buf.subarray(pos, pos + length) });
      pos += length;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (f: Field): string => (Buffer.isBuffer(f.value) ? f.value.toString('utf8') : String(f.value));
const bytes = (f: Field): Buffer => (Buffer.isBuffer(f.value) ? f.value : Buffer.alloc(0));

/** A map<string,string> (or bytes, base64 as JSON carries it) entry list into an object. */
function mapEntries(fields: Field[], num: number, asBase64 = false): Json | undefined {
  const entries = fields.filter((f) => f.num === num);
  if (entries.length === 0) return undefined;
  const out: Json = {};
  for (const entry of entries) {
    const kv = readFields(bytes(entry));
    const key = kv.find((f) => f.num === 1);
    const value = kv.find((f) => f.num === 2);
    out[key ? text(key) : ''] = value ? (asBase64 ? bytes(value).toString('base64') : text(value)) : '';
  }
  return out;
}

/** ObjectMeta: the fields a create sends. */
function objectMeta(buf: Buffer): Json {
  const fields = readFields(buf);
  const meta: Json = {};
  const strings: Record<number, string> = { 1: 'name', 2: 'generateName', 3: 'namespace', 5: 'uid', 6: 'resourceVersion' };
  for (const f of fields) if (strings[f.num] && text(f) !== '') meta[strings[f.num] as string] = text(f);
  const labels = mapEntries(fields, 11);
  const annotations = mapEntries(fields, 12);
  if (labels) meta.labels = labels;
  if (annotations) meta.annotations = annotations;
  const finalizers = fields.filter((f) => f.num === 14).map(text);
  if (finalizers.length) meta.finalizers = finalizers;
  return meta;
}

function attributes(buf: Buffer, names: Record<number, string>): Json {
  const out: Json = {};
  for (const f of readFields(buf)) if (names[f.num]) out[names[f.num] as string] = text(f);
  return out;
}

const DECODERS: Record<string, (fields: Field[]) => Json> = {
  ConfigMap: (fields) => {
    const obj: Json = {};
    const data = mapEntries(fields, 2);
    const binaryData = mapEntries(fields, 3, true);
    if (data) obj.data = data;
    if (binaryData) obj.binaryData = binaryData;
    const immutable = fields.find((f) => f.num === 4);
    if (immutable) obj.immutable = immutable.value === 1;
    return obj;
  },
  Secret: (fields) => {
    const obj: Json = {};
    const data = mapEntries(fields, 2, true);
    if (data) obj.data = data;
    const type = fields.find((f) => f.num === 3);
    if (type) obj.type = text(type);
    const stringData = mapEntries(fields, 4);
    if (stringData) obj.stringData = stringData;
    return obj;
  },
  Namespace: () => ({}),
  ServiceAccount: () => ({}),
  SelfSubjectAccessReview: (fields) => {
    const spec = fields.find((f) => f.num === 2);
    if (!spec) return { spec: {} };
    const specFields = readFields(bytes(spec));
    const resource = specFields.find((f) => f.num === 1);
    const nonResource = specFields.find((f) => f.num === 2);
    return {
      spec: {
        ...(resource
          ? { resourceAttributes: attributes(bytes(resource), { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' }) }
          : {}),
        ...(nonResource ? { nonResourceAttributes: attributes(bytes(nonResource), { 1: 'path', 2: 'verb' }) } : {}),
      },
    };
  },
};

/** The JSON object of a protobuf body, or undefined when the kind is not one the sandbox decodes. */
export function decodeProtobufObject(body: Buffer): Json | undefined {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') return undefined;
  const envelope = readFields(body.subarray(4));
  const typeMeta = envelope.find((f) => f.num === 1);
  const raw = envelope.find((f) => f.num === 2);
  if (!typeMeta || !raw) return undefined;
  const type = readFields(bytes(typeMeta));
  const apiVersion = type.find((f) => f.num === 1);
  const kind = type.find((f) => f.num === 2);
  if (!apiVersion || !kind) return undefined;
  const decode = DECODERS[text(kind)];
  if (!decode) return undefined;
  const fields = readFields(bytes(raw));
  const metadata = fields.find((f) => f.num === 1);
  return { apiVersion: text(apiVersion), kind: text(kind), metadata: metadata ? objectMeta(bytes(metadata)) : {}, ...decode(fields) };
}
