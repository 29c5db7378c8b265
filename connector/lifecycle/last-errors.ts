/** The most recent problem of each route, for status: what went wrong and when. Bounded by route count. */
export class LastErrors {
  private readonly byRoute = new Map<string, { message: string; at: string }>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  record(route: string, message: string): void {
    this.byRoute.set(route, { message: message.length > 512 ? `${message.slice(0, 511)}…` : message, at: this.now().toISOString() });
  }

  get(route: string): { message: string; at: string } | undefined {
    return this.byRoute.get(route);
  }

  /** Keeps only the named routes (removed routes take their history with them). */
  retain(routes: Iterable<string>): void {
    const keep = new Set(routes);
    for (const r of this.byRoute.keys()) if (!keep.has(r)) this.byRoute.delete(r);
  }
}
