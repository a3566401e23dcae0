/**
 * The conversations an inbox processor was told have work (a webhook stored a message, a turn finished, a burst
 * window closed), waiting for a targeted claim. They are kept per tenant and handed out one per tenant in turn, so a
 * tenant's campaign burst of thousands of wakes never stands in front of another tenant's single one, and a tenant
 * already at its share of the turns is passed over without walking its wakes.
 */
export class PendingWakes {
  /** Per tenant, its woken conversations in the order they were woken. The map's order is the tenants' turn order. */
  private readonly byTenant = new Map<string, Set<string>>();
  private count = 0;

  /** `limit`: conversations remembered at most; beyond, a wake is dropped (the round-robin claim finds its work). */
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.count;
  }

  add(conversationId: string, tenantId: string): void {
    let conversations = this.byTenant.get(tenantId);
    if (conversations?.has(conversationId) || this.count >= this.limit) return;
    if (!conversations) {
      conversations = new Set();
      this.byTenant.set(tenantId, conversations);
    }
    conversations.add(conversationId);
    this.count += 1;
  }

  /** Forgets a wake (its conversation was claimed another way). */
  delete(conversationId: string, tenantId: string): void {
    const conversations = this.byTenant.get(tenantId);
    if (!conversations?.delete(conversationId)) return;
    this.count -= 1;
    if (conversations.size === 0) this.byTenant.delete(tenantId);
  }

  /**
   * Takes up to `limit` conversations, one per tenant in turn, each tenant's oldest first and no more than
   * `room(tenantId)` of its own. The tenants served go to the back of the turn order, so the next call starts with
   * those this one did not reach.
   */
  take(limit: number, room: (tenantId: string) => number): Array<[conversationId: string, tenantId: string]> {
    const chosen: Array<[string, string]> = [];
    const roomLeft = new Map<string, number>();
    for (const tenantId of this.byTenant.keys()) {
      const available = room(tenantId);
      if (available > 0) roomLeft.set(tenantId, available);
    }
    const served: string[] = [];
    while (chosen.length < limit && roomLeft.size > 0) {
      for (const [tenantId, available] of roomLeft) {
        if (chosen.length >= limit) break;
        const conversations = this.byTenant.get(tenantId)!;
        const [oldest] = conversations;
        conversations.delete(oldest);
        this.count -= 1;
        chosen.push([oldest, tenantId]);
        if (served.at(-1) !== tenantId) served.push(tenantId);
        if (conversations.size === 0) {
          this.byTenant.delete(tenantId);
          roomLeft.delete(tenantId);
        } else if (available <= 1) roomLeft.delete(tenantId);
        else roomLeft.set(tenantId, available - 1);
      }
    }
    for (const tenantId of new Set(served)) {
      const conversations = this.byTenant.get(tenantId);
      if (!conversations) continue;
      this.byTenant.delete(tenantId);
      this.byTenant.set(tenantId, conversations);
    }
    return chosen;
  }
}
