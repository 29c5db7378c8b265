import type { TokenCredential, AccessToken } from "@azure/identity";

/**
 * Caches an Entra access token and refreshes it ahead of expiry, so kafkajs' OAUTHBEARER provider,
 * called on every (re)connection, does not hit the identity endpoint each time.
 */
export class CachedToken {
  private current?: AccessToken;
  private inflight?: Promise<AccessToken>;

  constructor(
    private readonly credential: TokenCredential,
    readonly scope: string,
    private readonly refreshBeforeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.current.expiresOnTimestamp - this.refreshBeforeMs > this.now()) return this.current.token;
    this.inflight ??= this.credential
      .getToken(this.scope)
      .then((t) => {
        if (!t) throw new Error(`no token returned for scope ${this.scope}`);
        this.current = t;
        return t;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return (await this.inflight).token;
  }
}

/** `https://ns.servicebus.windows.net` → `https://ns.servicebus.windows.net/.default` */
export function scopeForAudience(audience: string): string {
  return `${audience.replace(/\/+$/, "")}/.default`;
}
