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

void AddInvalidUtf8(std::vector<InvalidUtf8Tally>* all, const InvalidUtf8Tally& t) {
  for (InvalidUtf8Tally& a : *all) {
    if (a.source == t.source) {
      a.bytes += t.bytes;
      a.docs += t.docs;
      return;
    }
  }
  all->push_back(t);
}

std::string InvalidUtf8Warnings(std::string_view tool, const std::vector<InvalidUtf8Tally>& all) {
  std::string s;
  for (const InvalidUtf8Tally& t : all) {
    absl::StrAppend(&s, "llmtk-", ToAbsl(tool), ": warning: ", t.source, ": ", t.bytes, " byte", t.bytes == 1 ? "" : "s",
                    " of invalid UTF-8 in ", t.docs, " document", t.docs == 1 ? "" : "s", " (first at ", t.first,
                    "), tokenized as llama.cpp does (byte-level BPE: each bad byte as U+FFFD; SentencePiece: "
                    "byte fallback)\n");
  }
  return s;
}

// Fills a batch from the reader; false at the end.
absl::StatusOr<bool> FillBatch(DocumentReader& reader, bool keep_raw, DocBatch* b) {
  b->arena.clear();
  b->text_spans.clear();
  b->raw_spans.clear();
  b->is_json.clear();
  b->sources.clear();
  b->names.clear();
  b->lines.clear();
  Document doc;
  while (b->arena.size() < kBatchBytes && b->text_spans.size() < kBatchDocs) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&doc));
    if (!more) break;
    if (b->text_spans.empty()) b->first_index = doc.index;
    b->text_spans.emplace_back(b->arena.size(), doc.text.size());
    b->arena.append(doc.text);
    if (b->names.empty() || b->names.back() != *doc.source) b->names.push_back(*doc.source);
    b->sources.push_back(&b->names.back());
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
