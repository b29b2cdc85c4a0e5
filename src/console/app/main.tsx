// The console's single page: a navigation bar and a router on the URL's hash. Each page renders
// into the main element and may hand back a cleanup (timers, the live tail's EventSource) that
// runs when the user goes elsewhere.
import { h, replace } from './dom';
import { groupPage, groupsPage } from './groups';
import { aclsPage, chartsPage, connectPage, overviewPage } from './cluster';
import { topicPage, topicsPage } from './topics';
import { errorText, type Cleanup } from './ui';

export type Page = (root: HTMLElement, parameter: string) => Cleanup | void | Promise<Cleanup | void>;

const routes: [string, string, Page][] = [
  ['overview', 'Overview', overviewPage],
  ['topics', 'Topics', topicsPage],
  ['topic', '', topicPage],
  ['groups', 'Consumer groups', groupsPage],
  ['group', '', groupPage],
  ['charts', 'Live charts', chartsPage],
  ['security', 'ACLs & users', aclsPage],
  ['connect', 'Connect', connectPage],
];

let cleanup: Cleanup | void = undefined;
let generation = 0;

/** `#/name/parameter`, the parameter URI-encoded. */
function parseHash(): { name: string; parameter: string } {
  const [, name = 'overview', ...rest] = location.hash.replace(/^#/, '').split('/');
  return { name, parameter: decodeURIComponent(rest.join('/')) };
}

async function render(): Promise<void> {
  const current = ++generation;
  if (cleanup) cleanup();
  cleanup = undefined;
  const { name, parameter } = parseHash();
  const route = routes.find(([key]) => key === name) ?? routes[0]!;
  const highlighted = name === 'topic' ? 'topics' : name === 'group' ? 'groups' : route[0];
  for (const anchor of document.querySelectorAll<HTMLAnchorElement>('nav a')) anchor.classList.toggle('active', anchor.dataset.route === highlighted);
  const main = document.getElementById('main')!;
  replace(main, h('p', { class: 'muted' }, 'Loading...'));
  try {
    const result = await route[2](main, parameter);
    if (current !== generation) {
      if (result) result();
    } else cleanup = result;
  } catch (error) {
    if (current === generation) replace(main, h('p', { class: 'error', id: 'page-error' }, errorText(error)));
  }
}

function shell(): void {
  const app = document.getElementById('app')!;
  replace(
    app,
    h('header', {}, h('a', { href: '#/overview', class: 'brand' }, 'Conveyor'), h('nav', {}, routes.filter(([, label]) => label !== '').map(([key, label]) => h('a', { href: `#/${key}`, 'data-route': key }, label)))),
    h('div', { id: 'flash', hidden: true }),
    h('main', { id: 'main' }),
  );
}

shell();
window.addEventListener('hashchange', () => void render());
void render();
