// What every page shares: the cleanup a page hands back, error text and the flash message.
import { replace } from './dom';

export type Cleanup = () => void;

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A short message at the top of the page (green for done, red for failed). */
export function flash(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const element = document.getElementById('flash')!;
  replace(element, message);
  element.className = kind;
  element.hidden = false;
  window.setTimeout(() => {
    if (element.textContent === message) element.hidden = true;
  }, 6_000);
}

