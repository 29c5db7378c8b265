/**
 * The dependencies each registration carried (its `dependsOn`, and the resources its inputs came
 * from), by resource name: the mock monitor sees them, the mocks' newResource does not. Import
 * after ./mocks.
 */
const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): MonitorLike };

interface RequestLike {
  getName(): string;
  getDependenciesList(): string[];
}
interface MonitorLike {
  registerResource(req: RequestLike, callback: unknown): Promise<void>;
}

const byName = new Map<string, string[]>();
{
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    // URNs end in `::<name>`.
    byName.set(req.getName(), req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2)));
    return original(req, callback);
  };
}

/** Names of the resources `name` was registered as depending on (the last registration of that name). */
export function dependenciesOf(name: string): string[] {
  return [...(byName.get(name) ?? [])].sort();
}
