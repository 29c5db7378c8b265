/** MQTT v5 topic names and filters (spec §4.7). Returns a problem description, or undefined when valid. */

export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "topic filter is empty";
  if (filter.includes("\u0000")) return "topic filter contains a NUL character";
  if (Buffer.byteLength(filter, "utf8") > 65535) return "topic filter is longer than 65535 bytes";
  if (filter.startsWith("$share/")) return "use sharedSubscription instead of writing `$share/` into the filter";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return "`#` must be a whole level and the last one";
    }
    if (level.includes("+") && level !== "+") return "`+` must occupy a whole level";
  }
  return undefined;
}

export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return "topic is empty";
  if (topic.includes("\u0000")) return "topic contains a NUL character";
  if (topic.includes("+") || topic.includes("#")) return "a topic to publish to cannot contain the wildcards `+` or `#`";
  if (Buffer.byteLength(topic, "utf8") > 65535) return "topic is longer than 65535 bytes";
  return undefined;
}

/** Does `topic` match `filter`? Topics starting with `$` never match a leading wildcard (§4.7.2). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

export function sharedFilter(groupName: string, filter: string): string {
  return `$share/${groupName}/${filter}`;
}
