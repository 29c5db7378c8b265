import { strict as assert } from "node:assert";
import { topicMatches, topicFilterProblem, topicNameProblem, sharedFilter } from "../../connector/core/topic-filter";

describe("topic filters", () => {
  const cases: [string, string, boolean][] = [
    ["a/b", "a/b", true],
    ["a/b", "a/c", false],
    ["a/+", "a/b", true],
    ["a/+", "a/b/c", false],
    ["a/+/c", "a/x/c", true],
    ["a/#", "a", true], // `#` also matches the parent level (§4.7.1.2)
    ["a/#", "a/b/c", true],
    ["#", "a/b", true],
    ["+", "a", true],
    ["+", "a/b", false],
    ["+/+", "/a", true], // empty first level
    ["#", "$SYS/x", false],
    ["+/x", "$SYS/x", false],
    ["$SYS/#", "$SYS/x", true],
    ["a/b", "a/b/", false],
    ["a/+", "a/", true],
  ];
  for (const [filter, topic, expected] of cases) {
    it(`${filter} ${expected ? "matches" : "does not match"} ${topic}`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }

  it("rejects malformed filters with a reason", () => {
    assert.equal(topicFilterProblem("a/#/b"), "`#` must be a whole level and the last one");
    assert.equal(topicFilterProblem("a/b#"), "`#` must be a whole level and the last one");
    assert.equal(topicFilterProblem("a/b+/c"), "`+` must occupy a whole level");
    assert.equal(topicFilterProblem(""), "topic filter is empty");
    assert.equal(topicFilterProblem("$share/g/a"), "use sharedSubscription instead of writing `$share/` into the filter");
    assert.equal(topicFilterProblem("a/+/#"), undefined);
  });

  it("rejects wildcards in topics to publish to", () => {
    assert.equal(topicNameProblem("a/+"), "a topic to publish to cannot contain the wildcards `+` or `#`");
    assert.equal(topicNameProblem("a/b"), undefined);
  });

  it("builds shared subscription filters", () => {
    assert.equal(sharedFilter("g1", "a/#"), "$share/g1/a/#");
  });
});
