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

let clusterIdPromise: Promise<string> | undefined;

/** The cluster's id, which every /v3 path names. */
export function clusterId(): Promise<string> {
  clusterIdPromise ??= api<{ clusterId: string }>('/console/api/info').then((info) => info.clusterId);
  clusterIdPromise.catch(() => (clusterIdPromise = undefined));
  return clusterIdPromise;
}

/** A REST Proxy v3 path of this cluster: v3('/topics') is /v3/clusters/{id}/topics. */
export async function v3(path: string): Promise<string> {
  return `/v3/clusters/${enc(await clusterId())}${path}`;
}
