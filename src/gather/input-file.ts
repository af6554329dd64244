/**
 * Reading a file a user names (configuration values, a backup, a scenario): only a regular file, never more
 * than a limit (checked while reading, not trusted from stat), never blocking on a FIFO or a device, and
 * never echoing binary content back.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { UsageError } from '../errors.js';

/** What went wrong, as the end of a sentence ("… which is a FIFO, not a regular file"). */
function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Paths of kernel pseudo-filesystems: their "files" report size 0 and may never end. */
export function isPseudoFilesystemPath(path: string): boolean {
  return /^\/(proc|sys|dev)(\/|$)/.test(path);
}

/**
 * Reads `path` as UTF-8 text. `what` names it in messages (e.g. "--configuration-values file x.yaml").
 * Throws a UsageError when it is missing, not a regular file, larger than `maxBytes`, or binary.
 */
export function readRegularFile(path: string, options: { maxBytes: number; what: string; hint: string }): string {
  const { maxBytes, what, hint } = options;
  let real = resolvePath(path);
  try {
    real = realpathSync(path);
  } catch {
    // missing: reported by open below
  }
  if (isPseudoFilesystemPath(real)) {
    throw new UsageError(`${what} is on a kernel pseudo-filesystem (${path}), not a regular file; ${hint}.`);
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not block; a regular file ignores the flag.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (error as Error).message})`;
    throw new UsageError(`${what} ${why}; ${hint}.`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError(`${what} is ${kindOf(stat)}, not a regular file; ${hint}.`);
    const chunks: Buffer[] = [];
    let total = 0;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new UsageError(`${what} cannot be read (${code ?? (error as Error).message}); ${hint}.`, { cause: error });
      }
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        throw new UsageError(`${what} is larger than the ${Math.round(maxBytes / 1024)} KiB allowed; ${hint}.`);
      }
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
    const bytes = Buffer.concat(chunks);
    if (bytes.includes(0)) throw new UsageError(`${what} is a binary file, not JSON or YAML text; ${hint}.`);
    return bytes.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
