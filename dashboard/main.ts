/**
 * The dashboard's entry: sign-in with an API key, the caller's scopes and the server's documented routes decide
 * which sections exist, and a hash (#overview, #charts, ...) picks the visible one.
 */
import { ApiError, requestJson, storedKey, storeKey, UNAUTHORIZED_EVENT } from './api';
import { chartsView } from './charts-view';
import { correctionsView } from './corrections-view';
import { byId, h, notice, replaceChildren } from './dom';
import { handoffsView } from './handoffs-view';
import { healthView } from './health-view';
import { knowledgeView } from './knowledge-view';
import { overviewView } from './overview-view';
import { routingView } from './routing-view';
import { settingsView } from './settings-view';
import type { Session, View } from './view';

interface Me {
  tenant_id: string;
  settings_problems?: Array<{ setting: string; message: string; fallback: string }>;
  user: { id: string; name: string; role: string };
  scopes: string[];
}

const views: View[] = [overviewView, chartsView, routingView, healthView, correctionsView, handoffsView, knowledgeView, settingsView];
let session: Session | null = null;
let active: View | null = null;

/** Every "get /v1/bot/..." the server documents, so the page never calls a route this server lacks. */
async function loadRoutes(): Promise<Set<string>> {
  const document = await requestJson<{ paths: Record<string, Record<string, unknown>> }>('/schema/');
  const routes = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths)) {
    const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
    for (const method of Object.keys(operations)) routes.add(`${method} ${normalized}`);
  }
  return routes;
}

function range(): number {
  return Number(byId<HTMLSelectElement>('range').value);
}

function allowedViews(current: Session): View[] {
  return views.filter((view) => view.isAllowed(current));
}

function showSignIn(message?: string): void {
  active?.hide?.();
  active = null;
  session = null;
  byId('sign-in').hidden = false;
  byId('session-bar').hidden = true;
  byId('tabs').hidden = true;
  byId('settings-banner').hidden = true;
  replaceChildren(byId('views'));
  const error = byId('sign-in-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  byId<HTMLInputElement>('api-key').focus();
}

async function signIn(key: string): Promise<void> {
  const [me, routes] = await Promise.all([requestJson<Me>('/v1/bot/me', { key }), loadRoutes()]);
  storeKey(key);
  session = { key, scopes: new Set(me.scopes), routes, days: range() };
  byId('sign-in').hidden = true;
  byId('session-bar').hidden = false;
  byId('who').textContent = `${me.user.name || 'Signed in'} · ${me.user.role}`;
  // Invalid stored settings make Parley fall back to restrictive values (offline answers, no webhooks): say so everywhere.
  const problems = me.settings_problems ?? [];
  const banner = byId('settings-banner');
  banner.hidden = problems.length === 0;
  banner.textContent = problems.length
    ? `${problems.length} stored setting${problems.length === 1 ? ' is' : 's are'} invalid (${problems.map((problem) => problem.setting).join(', ')}); Parley uses a safe value instead. An admin can fix ${problems.length === 1 ? 'it' : 'them'} under Settings.`
    : '';
  // The period only changes the analytics sections; a key without them has nothing for it to change.
  byId('range').closest('label')!.hidden = !session.scopes.has('analytics:view');
  const allowed = allowedViews(session);
  const tabs = byId('tabs');
  replaceChildren(
    tabs,
    h('ul', { role: 'list' }, ...allowed.map((view) => h('li', {}, h('a', { href: `#${view.id}`, id: `tab-${view.id}` }, view.title)))),
  );
  tabs.hidden = false;
  if (allowed.length === 0) {
    replaceChildren(byId('views'), notice('This API key has no scope that the dashboard can show.', 'empty'));
    return;
  }
  route();
}

/** Shows the section named by the hash (or the first allowed one). */
function route(): void {
  if (!session) return;
  const allowed = allowedViews(session);
  const wanted = location.hash.slice(1);
  const view = allowed.find((candidate) => candidate.id === wanted) ?? allowed[0];
  if (!view) return;
  if (active && active !== view) active.hide?.();
  active = view;
  for (const candidate of allowed) {
    const link = document.getElementById(`tab-${candidate.id}`);
    if (candidate === view) link?.setAttribute('aria-current', 'page');
    else link?.removeAttribute('aria-current');
  }
  const container = h('section', { id: `view-${view.id}`, class: 'view', 'aria-labelledby': `heading-${view.id}` });
  container.append(h('h2', { id: `heading-${view.id}` }, view.title));
  replaceChildren(byId('views'), container);
  document.title = `${view.title} · Parley`;
  void view.show(container, session).catch((error: unknown) => reportError(container, error));
}

/** Renders a failure inside the section (a refused key is handled by the unauthorized event). */
function reportError(container: HTMLElement, error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return;
  container.append(notice(error instanceof Error ? error.message : 'Something went wrong', 'error'));
}

function start(): void {
  byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = byId<HTMLInputElement>('api-key').value.trim();
    if (!key) return showSignIn('Enter an API key.');
    signIn(key).catch((error: unknown) => {
      showSignIn(
        error instanceof ApiError && error.status === 401
          ? 'That API key is invalid or revoked.'
          : `Could not sign in: ${String(error instanceof Error ? error.message : error)}`,
      );
    });
  });
  byId('sign-out').addEventListener('click', () => {
    storeKey(null);
    history.replaceState(null, '', location.pathname);
    showSignIn();
  });
  byId<HTMLSelectElement>('range').addEventListener('change', () => {
    if (!session) return;
    session.days = range();
    route();
  });
  window.addEventListener('hashchange', route);
  window.addEventListener(UNAUTHORIZED_EVENT, () => {
    storeKey(null);
    showSignIn('The API key is no longer valid. Sign in again.');
  });

  const key = storedKey();
  if (key)
    signIn(key).catch(() => {
      storeKey(null);
      showSignIn('Your session ended. Sign in again.');
    });
  else showSignIn();
}

start();
