/**
 * Event hub names from the topic map's routes. Each event hub is a Kafka topic of the same name and
 * Event Hubs has no topic auto-creation, so the hubs are exactly the distinct route topics.
 */

import { kafkaTopicUsage, openTemplateRoutes, routeBody, type RouteShape } from "../connector/config/routes";

/** The part of a route this module needs; both the args and the validated spec fit it. */
export type RouteTopics = RouteShape;

/** One event hub and the routes that use it. */
export interface HubUsage {
  /** Event hub name = Kafka topic. */
  name: string;
  /** Routes that produce to this hub (they need Data Sender): mqttToKafka route names, and
   * `<route>.deadLetter` for routes whose dead letters go here. */
  producedBy: string[];
  /** Names of kafkaToMqtt routes that consume this hub (they need Data Receiver). */
  consumedBy: string[];
}

/** Event Hubs entity names: 1-256 of letters, digits, `.`, `-`, `_`; first and last a letter or digit. */
export const EVENT_HUB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/;

/** Event Hubs namespace names: 6-50 of letters, digits, `-`; starts with a letter, ends with a letter or digit. */
export const EVENT_HUBS_NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;

/** Why Event Hubs would reject `name` as an event hub name, or undefined. */
export function eventHubNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 256) return "event hub names are 1 to 256 characters long";
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return "event hub names may contain only letters, digits, `.`, `-` and `_`";
  if (!EVENT_HUB_NAME.test(name)) return "event hub names must start and end with a letter or digit";
  return undefined;
}

export function namespaceNameProblem(name: string): string | undefined {
  if (!EVENT_HUBS_NAMESPACE_NAME.test(name)) {
    return "Event Hubs namespace names are 6 to 50 letters, digits and `-`, start with a letter and end with a letter or digit";
  }
  if (/-(sb|mgmt)$/i.test(name)) return "Event Hubs namespace names cannot end with `-sb` or `-mgmt`";
  return undefined;
}

export interface HubsOptions {
  /**
   * Event Hubs: a templated mqttToKafka kafkaTopic must list its topics in kafkaTopics, since every
   * hub must exist (and be authorized) before a message names it. Own Kafka clusters need no list.
   */
  requireTopicLists?: boolean;
}

/**
 * The distinct Kafka topics of the routes (including Kafka dead-letter topics, and the kafkaTopics
 * of templated and multi-topic routes), in order of first use, with the routes using each.
 * Throws when a topic cannot be an event hub name, naming the route, or when two topics differ
 * only by case (Kafka tells them apart, Event Hubs does not), and with `requireTopicLists` when
 * a templated route does not list its topics.
 */
export function hubsFromRoutes(routes: readonly RouteTopics[], opts: HubsOptions = {}): HubUsage[] {
  const problems = routes.flatMap((r, i) => (routeBody(r) ? [] : [`routes[${i}]: set exactly one of mqttToKafka or kafkaToMqtt`]));
  if (opts.requireTopicLists) {
    for (const o of openTemplateRoutes(routes)) {
      problems.push(
        `${o.field}: required on Event Hubs, since route ${JSON.stringify(o.route)} has a templated kafkaTopic (${JSON.stringify(o.template)}): ` +
          "event hubs must exist before a message names one, so list every topic the template may produce and each becomes a hub with its Data Sender role",
      );
    }
  }
  const byLower = new Map<string, { topic: string; route: string }>();
  const hubs: HubUsage[] = [];
  for (const { topic, users } of kafkaTopicUsage(routes)) {
    const first = users[0]!;
    const where = `route ${JSON.stringify(first.route)} (${first.field})`;
    const problem = eventHubNameProblem(topic);
    if (problem) {
      problems.push(`${where}: Kafka topic ${JSON.stringify(topic)} cannot be an event hub name; ${problem}`);
      continue;
    }
    const clash = byLower.get(topic.toLowerCase());
    if (clash) {
      problems.push(
        `${where}: Kafka topic ${JSON.stringify(topic)} and ${JSON.stringify(clash.topic)} (route ${JSON.stringify(clash.route)}) ` +
          "differ only by case; Event Hubs names are case-insensitive, so both would be one event hub",
      );
      continue;
    }
    byLower.set(topic.toLowerCase(), { topic, route: first.route });
    hubs.push({
      name: topic,
      producedBy: users.filter((u) => u.use !== "consumes").map((u) => (u.use === "deadLetters" ? `${u.route}.deadLetter` : u.route)),
      consumedBy: users.filter((u) => u.use === "consumes").map((u) => u.route),
    });
  }
  if (problems.length) throw new Error(`invalid topic map for Event Hubs:\n  ${problems.join("\n  ")}`);
  return hubs;
}
