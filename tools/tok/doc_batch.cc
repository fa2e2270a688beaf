#include "tools/tok/doc_batch.h"

#include <charconv>

namespace llmtk {

void AppendIds(std::string* out, std::span<const uint32_t> ids, char sep) {
  char buf[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out->push_back(sep);
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), ids[i]);
    out->append(buf, p);
  }
}

// Fills a batch from the reader; false at the end.
absl::StatusOr<bool> FillBatch(DocumentReader& reader, bool keep_raw, DocBatch* b) {
  b->arena.clear();
  b->text_spans.clear();
  b->raw_spans.clear();
  b->is_json.clear();
  b->sources.clear();
  b->lines.clear();
  Document doc;
  while (b->arena.size() < kBatchBytes && b->text_spans.size() < kBatchDocs) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&doc));
    if (!more) break;
    if (b->text_spans.empty()) b->first_index = doc.index;
    b->text_spans.emplace_back(b->arena.size(), doc.text.size());
    b->arena.append(doc.text);
    b->sources.push_back(doc.source);
    b->lines.push_back(doc.line_number);
    if (keep_raw) {
      b->raw_spans.emplace_back(b->arena.size(), doc.raw.size());
      b->arena.append(doc.raw);
      b->is_json.push_back(doc.is_json);
    }
  }
  return !b->text_spans.empty();
}

}  // namespace llmtk
