/**
 * V8 heap limits the image sets through NODE_OPTIONS (connector/Dockerfile), and the benchmark runs
 * the connector with, so what it measures is what ships.
 *
 * Left alone, V8 sizes its heap from the machine's memory and collects lazily, so a connector whose
 * live data is a few tens of MB grows to 200-350 MB of RSS under load. Everything the connector
 * holds is bounded (Receive Maximum, the QoS 0 buffer, one fetch), so a 128 MB old space is ample;
 * a 4 MB semi-space frees short-lived message buffers in scavenges instead of promoting them.
 * Override by setting NODE_OPTIONS on the container (e.g. for very many routes).
 */
export const NODE_OPTIONS = "--max-old-space-size=128 --max-semi-space-size=4";
