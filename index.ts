// TypeScript entry of the package for Pulumi's component analyzer (PulumiPlugin.yaml), which looks
// for index.ts at the package root; Node consumers use dist/components via package.json.
export * from "./components";
