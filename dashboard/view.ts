/** What a dashboard section is: a name, who may see it, and how it draws itself into its container. */

export interface Session {
  key: string;
  scopes: ReadonlySet<string>;
  /** "get /v1/bot/..." routes the server documents (trailing slash dropped). */
  routes: ReadonlySet<string>;
  /** The chosen period: 7, 30 or 90 days. */
  days: number;
}

export interface View {
  id: string;
  title: string;
  isAllowed(session: Session): boolean;
  show(container: HTMLElement, session: Session): Promise<void>;
  /** Stops timers when the section is left. */
  hide?(): void;
}

/** Whether the server documents this route (method and path as in the OpenAPI document, no trailing slash). */
export function serves(session: Session, method: string, path: string): boolean {
  return session.routes.has(`${method} ${path}`);
}
