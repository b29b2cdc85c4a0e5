// How bytes are shown: as JSON when they parse, else text when printable, else hex; or as asked.
export type View = 'auto' | 'json' | 'text' | 'hex';

export function fromBase64(data: string | null): Uint8Array | null {
  if (data === null) return null;
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

function text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** The bytes shown as `view` asks (auto picks JSON, text or hex). */
export function show(data: string | null, view: View): string {
  const bytes = fromBase64(data);
  if (bytes === null) return 'null';
  const decoded = text(bytes);
  if (view === 'hex' || (view === 'auto' && (decoded === null || /[\u0000-\u0008\u000e-\u001f]/.test(decoded)))) return hex(bytes);
  if (view === 'text') return decoded ?? hex(bytes);
  try {
    return JSON.stringify(JSON.parse(decoded ?? ''), null, 2);
  } catch {
    return view === 'json' ? `(not JSON) ${decoded}` : (decoded ?? hex(bytes));
  }
}

export function bytes(count: number | null | undefined): string {
  if (count === null || count === undefined || count < 0) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function number(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

export function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Text typed in the hex view ("0a ff ...") as base64. */
export function hexToBase64(input: string): string {
  const digits = input.replace(/[^0-9a-fA-F]/g, '');
  let binary = '';
  for (let index = 0; index + 1 < digits.length; index += 2) binary += String.fromCharCode(Number.parseInt(digits.slice(index, index + 2), 16));
  return btoa(binary);
}
