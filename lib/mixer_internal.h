// mixer_internal: pieces shared by mixer.cc and mixer_recipe.cc; not API.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_MIXER_INTERNAL_H_
#define LLMTK_LIB_MIXER_INTERNAL_H_

#include <string>
#include <vector>

#include "lib/mixer.h"

namespace llmtk {

// Reads a recipe (or a manifest) into `sources`; its settings fill those of
// `settings` that are still unset, so explicit flags win.
absl::Status LoadRecipe(const std::string& path, std::vector<MixSource>* sources, MixSettings* settings);
std::string ShuffleName(ShuffleMode mode, uint64_t window);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIXER_INTERNAL_H_
