// Loaded by mocha before any test file (`require` in .mocharc*.json): the connector's kafkajs seam
// must prepare kafkajs before anything loads it, as it does in the CLI. A test file that imports
// kafkajs directly would otherwise load it first and leave the allocation patches off.
import { installKafkajs } from "../connector/ports/kafka/seam";

installKafkajs();
