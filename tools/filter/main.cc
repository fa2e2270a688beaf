// llmtk-filter: quality tags (dolma's gopher_v1 and c4_v1, FineWeb's three
// statistics), language identification (CLD2) and PII replacement; `tag`
// writes the attributes, `filter` keeps or drops by rules.
#include "tools/common/cli.h"
#include "tools/filter/filter_tool.h"

namespace {

void AddFlags(llmtk::Tool& tool, CLI::App* app, llmtk::FilterToolOptions* f) {
  app->add_option("inputs", f->run.inputs, "Input files or directories ('-' or none: stdin)");
  tool.AddCommonFlags(&f->common, app);
  tool.AddReaderFlags(&f->run.reader, app);
  tool.AddOutputFlags(&f->run.output, &f->run.output_opts, app);
  app->add_option("--bad-words", f->run.bad_words,
                  "C4 bad-words list, one entry a line (replaces the built-in LDNOOBW English list)");
  app->add_flag("--pii", f->run.pii,
                "Replace e-mail and public IP addresses first, as datatrove's PIIFormatter does");
  app->add_option("--fasttext", f->run.fasttext,
                  "fastText language-ID model (lid.176.bin, GlotLID): adds the fasttext tagger; rules' \"languages\" "
                  "then use its top language instead of CLD2's");
  app->add_option("--shard", f->shard, "This shard, i/N (0-based): the input files [i*F/N, (i+1)*F/N)");
}

}  // namespace

int main(int argc, char** argv) {
  llmtk::Tool tool("filter", "Tag and filter documents: Gopher, C4 and FineWeb rules, CLD2 or fastText language ID, PII",
                   "llmtk-filter filter --rules gopher,c4,fineweb corpus.jsonl.zst --removed removed.jsonl "
                   "-o kept.jsonl.zst");
  CLI::App& app = tool.app();
  llmtk::FilterToolOptions f;
  CLI::App* tag = app.add_subcommand("tag", "Write every document with an `attributes` object (dolma's spans)");
  AddFlags(tool, tag, &f);
  tag->add_option("--taggers", f.taggers, "Comma-separated: gopher, c4, fineweb, cld2, fasttext (or gopher_v1, c4_v1, ...)")
      ->capture_default_str();
  CLI::App* filter = app.add_subcommand("filter", "Keep or drop documents by rules (presets gopher, c4, fineweb)");
  AddFlags(tool, filter, &f);
  filter->add_option("--rules", f.run.rules, "Preset(s) gopher,c4,fineweb or a rule file (YAML or JSON Lines)")->required();
  filter->add_option("--removed", f.run.removed, "Write the dropped documents here, each with the rule that dropped it");
  app.require_subcommand(1, 1);
  return tool.Run(argc, argv, [&]() -> absl::Status {
    f.run.tag = app.get_subcommands()[0]->get_name() == "tag";
    return llmtk::RunFilterTool(f);
  });
}
