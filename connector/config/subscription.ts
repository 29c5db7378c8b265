import type { MqttToKafkaRoute } from "./schema";
import { sharedFilter } from "../core/topic-filter";

/** How one mqttToKafka route subscribes, in every instance of its connector. */
export interface RouteSubscription {
  /** The filter each client subscribes to. */
  filter: string;
  /** MQTT clients per instance. */
  clients: number;
  /** Why it is (not) shared: set in the route, derived because several instances run, or plain. */
  mode: "configured" | "instances" | "plain";
  /**
   * The route's other possible filters. A persistent session from before a change of `instances`
   * still holds the old one, and the broker would deliver every message to it as well, so each
   * client unsubscribes these once connected.
   */
  stale: string[];
}

/** The shared-subscription group of a route that runs on several instances without one configured. */
export function derivedGroupName(connectorName: string, routeName: string): string {
  return `${connectorName}-${routeName}`;
}

/**
 * Several instances must share a route's messages, not each forward all of them: a route without
 * `sharedSubscription` becomes a shared subscription (one client per instance) when `instances` > 1.
 */
export function routeSubscription(route: MqttToKafkaRoute, connectorName: string, instances: number): RouteSubscription {
  const derived = sharedFilter(derivedGroupName(connectorName, route.name), route.mqttTopic);
  const share = route.sharedSubscription;
  const sub: Omit<RouteSubscription, "stale"> = share
    ? { filter: sharedFilter(share.groupName, route.mqttTopic), clients: share.groupMinimumShareNumber, mode: "configured" }
    : instances > 1
      ? { filter: derived, clients: 1, mode: "instances" }
      : { filter: route.mqttTopic, clients: 1, mode: "plain" };
  return { ...sub, stale: [route.mqttTopic, derived].filter((f) => f !== sub.filter) };
}

/** One line for `--validate`, `check` and the start-up log. */
export function describeSubscription(s: RouteSubscription, instances: number): string {
  const per = `${s.clients} client${s.clients === 1 ? "" : "s"} per instance`;
  switch (s.mode) {
    case "plain":
      return `subscribes ${s.filter} (one instance)`;
    case "instances":
      return `${instances} instances share ${s.filter} (derived because instances > 1; each message goes to one instance)`;
    case "configured":
      return `shares ${s.filter}, ${per}${instances > 1 ? ` on each of ${instances} instances` : ""}`;
  }
}
