// CLD2 called in the documented ways that could change which language a
// document gets, for scripts/reference/cld2-variants: per JSONL document on
// stdin one TSV line "id, source, then per variant summary|top3|reliable"
// (plain text; HTML mode as pycld2 and so dolma's cld2 taggers call it;
// kCLDFlagBestEffort; ExtDetectLanguageSummary), then dolma's
// cld2_en_paragraph_with_doc_score idea generalised: CLD2 per line, each
// reliable line's languages weighted by its bytes x percent, the heaviest.
#include <cstdio>
#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>
#include <iostream>
#include <string>
#include <vector>
#include <map>
#include "simdjson.h"
using namespace CLD2;
static std::string Top3(Language* l, int* p) {
  std::string s;
  for (int i = 0; i < 3; ++i) { s += LanguageCode(l[i]); s += ":" + std::to_string(p[i]); s += i < 2 ? "," : ""; }
  return s;
}
int main() {
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(std::cin, line)) {
    simdjson::dom::element d = parser.parse(line);
    std::string_view text = d["text"].get_string().value();
    std::string_view src = "";
    if (d["source"].get_string().get(src)) src = "";
    std::string_view id = d["id"].get_string().value();
    Language l[3]; int p[3]; int tb; bool rel; double ns[3];
    std::cout << id << "\t" << src;
    const char* b = text.data(); int n = text.size();
    Language t;
    t = DetectLanguageSummary(b, n, true, l, p, &tb, &rel); std::cout << "\t" << LanguageCode(t) << "|" << Top3(l, p) << "|" << rel;
    t = DetectLanguageSummary(b, n, false, l, p, &tb, &rel); std::cout << "\t" << LanguageCode(t) << "|" << Top3(l, p) << "|" << rel;
    CLDHints h = {nullptr, nullptr, UNKNOWN_ENCODING, UNKNOWN_LANGUAGE};
    int valid;
    t = ExtDetectLanguageSummaryCheckUTF8(b, n, true, &h, kCLDFlagBestEffort, l, p, ns, nullptr, &tb, &rel, &valid); std::cout << "\t" << LanguageCode(t) << "|" << Top3(l, p) << "|" << rel;
    t = ExtDetectLanguageSummary(b, n, true, l, p, &tb, &rel); std::cout << "\t" << LanguageCode(t) << "|" << Top3(l, p) << "|" << rel;
    // dolma's paragraph tagger: CLD2 per line (pycld2 defaults: not plain text), char-weighted
    std::map<std::string, double> w;
    size_t start = 0;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start); if (nl == std::string_view::npos) nl = text.size();
      std::string_view para = text.substr(start, nl - start);
      if (!para.empty()) {
        Language tt = DetectLanguageSummary(para.data(), para.size(), false, l, p, &tb, &rel);
        for (int i = 0; i < 3; ++i) if (p[i] > 0 && rel) w[LanguageCode(l[i])] += para.size() * p[i] / 100.0;
        (void)tt;
      }
      start = nl + 1;
    }
    std::string best = "un"; double bw = 0;
    for (auto& [k, v] : w) if (v > bw) { bw = v; best = k; }
    std::cout << "\t" << best;
    std::cout << "\n";
  }
}
