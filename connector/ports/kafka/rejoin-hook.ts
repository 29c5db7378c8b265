/**
 * A "before partitions are given up" hook for kafkajs, which has no onPartitionsRevoked. Offsets
 * are committed on a timer, so when the group rebalances, what was delivered since the last commit
 * is not committed yet; after the rejoin kafkajs fetches from the committed offsets, and the
 * partition's next owner (or this member) would publish those messages a second time. The hook
 * lets the consumer commit first.
 *
 * Every (re)join of kafkajs goes through ConsumerGroup.joinAndSync, with the old membership still
 * valid, which is when Kafka still accepts the old generation's offset commits. The method is
 * wrapped on the prototype, so it works whenever this module loads. Hooks are keyed by group id and
 * get the rejoining member's id (empty on a first join), since one process may hold several members
 * of a group and each should commit only its own offsets.
 */
import { consumerGroupPrototype } from "./internals";

type Hook = (memberId: string) => Promise<void>;

const hooks = new Map<string, Set<Hook>>();

interface ConsumerGroupLike {
  groupId: string;
  memberId: string | null;
  joinAndSync(): Promise<void>;
}

function install(): boolean {
  try {
    const proto = consumerGroupPrototype<ConsumerGroupLike>();
    const original = proto?.joinAndSync;
    if (!proto || typeof original !== "function") return false;
    proto.joinAndSync = async function (this: ConsumerGroupLike): Promise<void> {
      const set = hooks.get(this.groupId);
      const member = this.memberId ?? "";
      if (set?.size && member) await Promise.all([...set].map((h) => h(member).catch(() => undefined)));
      return original.call(this);
    };
    return true;
  } catch {
    return false;
  }
}

let installed: boolean | undefined;

/** Wraps joinAndSync once (seam.ts); false for another kafkajs version: rebalances may then duplicate. */
export function installRejoinHook(): boolean {
  return (installed ??= install());
}

/** Runs `hook` before every join of `groupId`'s members in this process; returns the unregister function. */
export function beforeRejoin(groupId: string, hook: Hook): () => void {
  let set = hooks.get(groupId);
  if (!set) hooks.set(groupId, (set = new Set()));
  set.add(hook);
  return () => {
    set.delete(hook);
    if (!set.size) hooks.delete(groupId);
  };
}
