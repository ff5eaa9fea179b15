/**
 * Which tenants this node processes. One process owns every tenant; in a cluster, tenants are
 * leased to nodes (see postgres-leases.ts) so that each tenant's events, and so every correlation
 * window of that tenant, are judged by exactly one node at a time.
 */

/** Proof of ownership a commit carries: the store refuses it once another node took the tenant. */
export interface Fence {
  node: string;
  epoch: number;
}

export interface OwnershipListener {
  /** Tenants this node now owns: their processing resumes from the stored position. */
  gained(tenants: readonly string[]): void;
  /**
   * Tenants this node must give up. `handover` is true when the node is asked to hand them over
   * (it still owns them: it finishes what it has under way, stores its state and then calls
   * `released`); false when the lease is already lost (nothing more may be stored for them).
   */
  lost(tenants: readonly string[], handover: boolean): void;
}

export interface TenantOwnership {
  /** Whether this node detects for the tenant now (being handed over included). */
  owns(tenant: string): boolean;
  /** What a commit for an owned tenant carries, when the store must check it (a cluster). */
  fence(tenant: string): Fence | undefined;
  /** Owned and not being handed over: new work may start. */
  active(tenant: string): boolean;
  /** Says a tenant given up for handover is done with (its state is stored). */
  released(tenant: string): void;
  listen(listener: OwnershipListener): void;
  /** A tenant's log appeared: it becomes a candidate for ownership. */
  noticeTenant(tenant: string): void;
  stop(): Promise<void>;
}

/** The embedded service: one process, every tenant its own, no fences needed. */
export class EveryTenant implements TenantOwnership {
  owns(): boolean {
    return true;
  }
  fence(): undefined {
    return undefined;
  }
  active(): boolean {
    return true;
  }
  released(): void {}
  listen(): void {}
  noticeTenant(): void {}
  async stop(): Promise<void> {}
}

/** A commit refused because the tenant's lease went to another node meanwhile. */
export class LeaseLost extends Error {
  constructor(
    readonly tenant: string,
    readonly fence: Fence,
  ) {
    super(`tenant ${tenant} is no longer leased to node ${fence.node} (epoch ${fence.epoch})`);
    this.name = 'LeaseLost';
  }
}
