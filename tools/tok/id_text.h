// tools/tok/id_text: decimal text of token ids from a table built once per
// vocabulary. `llmtk-tok encode` prints tens of millions of ids, and
// std::to_chars per id was a visible share of its time; a table lookup and
// one 8-byte copy per id is not. AppendIds (doc_batch.h) stays the
// reference, and tests/tok_id_text_test.cc compares the two.
#ifndef LLMTK_TOOLS_TOK_ID_TEXT_H_
#define LLMTK_TOOLS_TOK_ID_TEXT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace llmtk {

class IdText {
 public:
  // Ids below `table_size` (at most 10^8) come from the table, others from
  // std::to_chars.
  explicit IdText(uint32_t table_size);
  // Appends `ids` as decimal numbers separated by `sep`, as AppendIds does.
  void Append(std::string* out, std::span<const uint32_t> ids, char sep) const;

 private:
  std::vector<uint64_t> digits_;  // the id's digits in its first len_ bytes
  std::vector<uint8_t> len_;
};

}  // namespace llmtk

#endif  // LLMTK_TOOLS_TOK_ID_TEXT_H_
