// filter/attributes: dolma's tagger output for one document — per attribute
// type, the spans [start, end, score] with offsets in code points — and its
// JSON form, the `attributes` object dolma writes.
//
// Keys are "<experiment>__<tagger>__<type>" (dolma's runtime; without an
// experiment name the tagger's name is the experiment), in the order the
// tagger first emits each type; scores are rounded as dolma's BaseTagger.tag
// rounds them, Python's round(score, 5).
//
// Thread-safety: plain values.
#ifndef LLMTK_LIB_FILTER_ATTRIBUTES_H_
#define LLMTK_LIB_FILTER_ATTRIBUTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace llmtk {

struct Span {
  uint64_t start = 0, end = 0;
  double score = 1.0;  // already rounded
};

struct Attribute {
  std::string name;  // full key, "gopher_v1__gopher_v1__word_count"
  std::vector<Span> spans;
  std::string json_key;  // the name as a JSON key with its colon, "\"...\":"
};

// One document's attributes from every tagger run, in output order.
class Attributes {
 public:
  // Appends a span of `tagger`'s `type` (the score rounded here).
  void Add(std::string_view tagger, std::string_view type, uint64_t start, uint64_t end, double score = 1.0);
  absl::Span<const Attribute> items() const { return {items_.data(), size_}; }
  // The attribute named by a full key or its short form "<tagger>__<type>";
  // nullptr when the document has none.
  const Attribute* Find(std::string_view name) const;
  // Keeps the storage (names, span lists) for the next document: tagging
  // then allocates nothing once the first few documents are done.
  void Clear() { size_ = 0; }
  // Appends {"key":[[start,end,score],...],...}: keys quoted once per
  // attribute slot, numbers written straight into *out.
  void AppendJson(std::string* out) const;
  // The same through JsonWriter, the definition AppendJson is tested against.
  void AppendJsonReference(std::string* out) const;

 private:
  std::vector<Attribute> items_;  // [0, size_) are this document's
  size_t size_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_ATTRIBUTES_H_
