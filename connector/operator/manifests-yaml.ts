/**
 * deploy/operator/*.yaml, rendered from operatorManifests() with no options, with the reasons
 * that a reader of those files needs as YAML comments. Written by scripts/gen-crds.ts; a test
 * fails while the files on disk differ.
 */
import { Document, isMap, isScalar, isSeq, visit, type Node } from "yaml";
import { OPERATOR_RULES, operatorManifests, type OperatorManifest } from "./manifests";

const GENERATED = " Generated from connector/operator/manifests.ts by `npm run gen:crds`; edit that file, not this one.";

const CLUSTER_ROLE_WHY = `
What \`mqtt-kafka-connector operator\` does, in every namespace, and nothing more.

Kubernetes lets a subject create a Role, or bind one, only if it already holds every permission
in it (the RBAC escalation rule). The operator creates a Role per connector (connectorRoleRules
in connector/k8s/workload.ts), so it holds those permissions itself, without resourceNames since
the names depend on each connector. The alternative, the \`escalate\` and \`bind\` verbs on roles,
would let it write any Role in any namespace: strictly more power than the few rules below.
No Secrets and no Pods: the pods mount their Secrets and are created by the StatefulSet controller.`;

function comment(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((l) => (l ? ` ${l}` : ""))
    .join("\n");
}

/** The value node at `path` (map keys and sequence indexes). */
function nodeAt(doc: Document, path: (string | number)[]): Node {
  const node = doc.getIn(path, true);
  if (!node || typeof node !== "object") throw new Error(`no node at ${path.join(".")}`);
  return node as Node;
}

/** The key node of `key` in the map at `path`: a comment on it goes above the pair. */
function keyAt(doc: Document, path: (string | number)[], key: string): Node {
  const map = path.length ? nodeAt(doc, path) : doc.contents;
  if (!isMap(map)) throw new Error(`no map at ${path.join(".")}`);
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair || !isScalar(pair.key)) throw new Error(`no ${key} at ${path.join(".")}`);
  return pair.key;
}

function render(obj: OperatorManifest, why: string | undefined, decorate?: (doc: Document) => void): string {
  // Plain YAML without anchors: the builder shares objects (labels) between places.
  const doc = new Document(obj, { aliasDuplicateObjects: false });
  doc.commentBefore = [GENERATED, ...(why ? ["", comment(why)] : [])].join("\n");
  visit(doc, {
    Seq(_, node) {
      // Short lists of words read best on one line, as hand-written manifests have them.
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
  decorate?.(doc);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** File name under deploy/operator/ -> its content. */
export function operatorYamlFiles(): Map<string, string> {
  const m = operatorManifests();
  if (!m.namespace) throw new Error("the default install has a namespace");
  const files = new Map<string, string>();
  files.set("namespace.yaml", render(m.namespace, "The operator's own namespace. Its pod passes Pod Security \"restricted\", so the namespace enforces it."));
  files.set("serviceaccount.yaml", render(m.serviceAccount, undefined));
  files.set(
    "clusterrole.yaml",
    render(m.role, CLUSTER_ROLE_WHY, (doc) => {
      const rules = nodeAt(doc, ["rules"]);
      if (!isSeq(rules)) throw new Error("rules is not a list");
      OPERATOR_RULES.forEach((r, i) => {
        if (r.why) (rules.items[i] as Node).commentBefore = comment(r.why);
      });
    }),
  );
  files.set("clusterrolebinding.yaml", render(m.binding, undefined));
  files.set(
    "deployment.yaml",
    render(m.deployment, "One replica, replaced rather than rolled (Recreate): two operators at once would be harmless,\nsince both apply the same objects with one field manager, but would double the API calls.", (doc) => {
      keyAt(doc, ["spec", "template", "spec", "containers", 0], "image").commentBefore = comment("The connector's image; set the tag with `kustomize edit set image` (docs/operator.md).");
    }),
  );
  return files;
}
