/**
 * Pulumi mocks for the component tests. Import this module before anything that imports
 * @pulumi/* resources: the mocks must be in place before the first resource is constructed.
 */
import * as pulumi from "@pulumi/pulumi";

export const SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
export const TENANT = "11111111-1111-1111-1111-111111111111";
export const CONNECTION_STRING = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0";

/** One registered resource, with the inputs and the options the engine would have received. */
export interface Registered {
  protect?: boolean;
  retainOnDelete?: boolean;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  id: string;
}

export const registered: Registered[] = [];
export const invoked: { token: string; inputs: Record<string, unknown> }[] = [];

function armId(type: string, name: string, inputs: Record<string, unknown>): string {
  const rg = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${String(inputs["resourceGroupName"] ?? "rg")}`;
  switch (type) {
    case "azure-native:eventhub:Namespace":
      return `${rg}/providers/Microsoft.EventHub/namespaces/${String(inputs["namespaceName"] ?? name)}`;
    case "azure-native:eventhub:EventHub":
      return `${rg}/providers/Microsoft.EventHub/namespaces/${String(inputs["namespaceName"])}/eventhubs/${String(inputs["eventHubName"])}`;
    case "azure-native:managedidentity:UserAssignedIdentity":
      return `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
    case "azure-native:authorization:RoleAssignment":
      return `${String(inputs["scope"])}/providers/Microsoft.Authorization/roleAssignments/${String(inputs["roleAssignmentName"])}`;
    default:
      return `${name}-id`;
  }
}

/** Output properties a real provider would add. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "azure-native:resources:ResourceGroup":
      return { name: `${name}-rg1234` };
    case "azure-native:eventhub:Namespace":
      return { name: inputs["namespaceName"] ?? `${name}abc123` };
    case "azure-native:eventhub:EventHub":
      return { name: inputs["eventHubName"] };
    case "azure-native:eventhub:NamespaceAuthorizationRule":
    case "azure-native:eventhub:EventHubAuthorizationRule":
      return { name: `${name}-rule` };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return { name, clientId: "client-id-of-" + name, principalId: "principal-id-of-" + name, tenantId: TENANT };
    default:
      return {};
  }
}

void pulumi.runtime.setMocks(
  {
    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
      const inputs = args.inputs as Record<string, unknown>;
      const id = armId(args.type, args.name, inputs);
      registered.push({ type: args.type, name: args.name, inputs, id });
      return { id, state: { ...inputs, ...outputsFor(args.type, args.name, inputs) } };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      invoked.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
      if (args.token === "azure-native:eventhub:listNamespaceKeys" || args.token === "azure-native:eventhub:listEventHubKeys") {
        return { primaryConnectionString: CONNECTION_STRING, secondaryConnectionString: CONNECTION_STRING + "2" };
      }
      return {};
    },
  },
  "mqtt-kafka-connector",
  "test",
);

// Internal to the SDK (stripped from its .d.ts) but exactly what a test needs: resolves once every
// outstanding registration RPC has finished; and the mock monitor, whose requests carry the
// resource options (protect, retainOnDelete) that the mocks' newResource is not given.
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void>; getMonitor(): MockMonitorLike };

interface RegisterRequestLike {
  getType(): string;
  getName(): string;
  getProtect(): boolean;
  getRetainondelete(): boolean;
}
interface MockMonitorLike {
  registerResource(req: RegisterRequestLike, callback: unknown): Promise<void>;
}

const options = new Map<string, { protect: boolean; retainOnDelete: boolean }>();
{
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    options.set(`${req.getType()} ${req.getName()}`, { protect: req.getProtect(), retainOnDelete: req.getRetainondelete() });
    return original(req, callback);
  };
}

/** Clears the record, runs `build`, and returns everything registered while it ran. */
export async function record(build: () => void): Promise<Registered[]> {
  await settings.waitForRPCs();
  registered.length = 0;
  invoked.length = 0;
  build();
  await settings.waitForRPCs();
  return registered.map((r) => ({ ...r, ...(options.get(`${r.type} ${r.name}`) ?? { protect: false, retainOnDelete: false }) }));
}

/** Resolves an Output's value (mock mode: always known). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Secrets reach the mock monitor wrapped in Pulumi's secret signature. */
export function isSecretValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

export function unwrapSecret(v: unknown): unknown {
  return isSecretValue(v) ? (v as Record<string, unknown>)["value"] : v;
}
