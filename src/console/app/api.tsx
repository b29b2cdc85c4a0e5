// The console server's JSON routes: errors come back as { message }, thrown here as Error(message).
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const body = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) throw new Error((body as { message?: string } | undefined)?.message ?? `${response.status} ${response.statusText}`);
  return body as T;
}

export const enc = encodeURIComponent;
