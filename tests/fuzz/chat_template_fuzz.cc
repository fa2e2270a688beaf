// libFuzzer target: chat templates (lib/chat). Any bytes as a template, and
// the ones that parse rendered over a small conversation: an error or a
// render, never a crash, a hang or a huge allocation. Build with
// -DLLMTK_FUZZ=ON (clang); scripts/fuzz-chat runs it seeded with
// testdata/chat_templates.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/chat/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = llmtk::ChatTemplate::Parse(text);
  if (!t.ok()) return 0;
  llmtk::ChatOptions o;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  o.now = 1726401600;
  (void)t->Render(std::vector<llmtk::ChatMessage>{{"system", "S"}, {"user", "U é"}, {"assistant", "A"}, {"user", "B"}},
                  o);
  return 0;
}
