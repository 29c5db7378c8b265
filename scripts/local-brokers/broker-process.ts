import fs from 'node:fs';
import { ManagedProcess, waitReady } from './proc';

/**
 * The process side both local brokers share: at most one OS process at a time, restartable on the
 * same ports and data dir, and a data dir that is deleted on dispose() only if the harness made it.
 */
export abstract class BrokerProcess {
  private proc: ManagedProcess | undefined;

  protected constructor(
    readonly dataDir: string,
    private readonly ownsDir: boolean,
    private readonly stopTimeoutMs: number,
  ) {}

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Spawn the broker and resolve once `probe` succeeds; the error names the broker and its log. */
  protected async launch(
    name: string,
    command: string,
    args: string[],
    logFile: string,
    startTimeoutMs: number,
    probe: () => Promise<void>,
  ): Promise<void> {
    fs.appendFileSync(logFile, `\n[harness] ${new Date().toISOString()} starting ${name}\n`);
    const proc = new ManagedProcess(command, args, logFile);
    this.proc = proc;
    await waitReady(name, proc, logFile, startTimeoutMs, probe);
  }

  /** SIGTERM, then SIGKILL after the broker's grace period. Data is kept. */
  async stop(): Promise<void> {
    await this.proc?.stop(this.stopTimeoutMs);
  }

  protected signal(sig: NodeJS.Signals): void {
    this.proc?.signal(sig);
  }

  /** SIGKILL. Data is kept. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
