// lib/chat: chat templates rendered byte-identical to jinja2 as transformers
// configures it. The goldens (testdata/chat_templates/*golden.jsonl) come
// from scripts/chat-template-reference (Debian python3-jinja2 3.1).
#include "lib/chat/chat_template.h"

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "lib/chat/value.h"

namespace llmtk {
namespace {

constexpr std::time_t kNow = 1726401600;  // the reference script's clock

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Dir() { return std::string(LLMTK_TESTDATA) + "/chat_templates/"; }

std::vector<chat::Value> JsonLines(const std::string& path) {
  std::vector<chat::Value> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    auto v = chat::Value::FromJson(line);
    EXPECT_TRUE(v.ok()) << v.status();
    if (v.ok()) out.push_back(*v);
  }
  return out;
}

const chat::Value& Field(const chat::Value& obj, std::string_view key) {
  static const chat::Value kUndefined;
  const chat::Value* v = obj.dict()->Find(key);
  return v ? *v : kUndefined;
}

// jinja2's message after its exception type ("TypeError: ..." -> "...").
std::string JinjaMessage(const std::string& error) { return error.substr(error.find(": ") + 2); }

bool EndsWith(absl::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && std::string_view(s.data() + s.size() - suffix.size(), suffix.size()) == suffix;
}

std::string Render(std::string_view tmpl, const ChatOptions& opts = {}) {
  auto t = ChatTemplate::Parse(tmpl);
  if (!t.ok()) return "PARSE ERROR: " + std::string(t.status().message());
  auto r = t->Render(std::vector<ChatMessage>{{"user", "Hi"}}, opts);
  if (!r.ok()) return "ERROR: " + std::string(r.status().message());
  return *r;
}

TEST(ChatTemplate, ModelTemplatesMatchJinja2) {
  auto templates = chat::Value::FromJson(ReadFile(Dir() + "templates.json"));
  auto conversations = chat::Value::FromJson(ReadFile(Dir() + "conversations.json"));
  ASSERT_TRUE(templates.ok() && conversations.ok());
  std::map<std::string, std::pair<ChatTemplate, ChatOptions>> parsed;
  for (const chat::Value& t : templates->list()) {
    const std::string name = Field(t, "name").str();
    auto tmpl = ChatTemplate::Parse(ReadFile(Dir() + name + ".jinja"));
    ASSERT_TRUE(tmpl.ok()) << name << ": " << tmpl.status();
    ChatOptions o;
    o.bos_token = Field(t, "bos_token").str();
    o.eos_token = Field(t, "eos_token").str();
    o.now = kNow;
    parsed.emplace(name, std::make_pair(std::move(*tmpl), o));
  }
  std::map<std::string, chat::Value> convs;
  for (const chat::Value& c : conversations->list()) convs[Field(c, "name").str()] = c;

  int renders = 0, errors = 0;
  for (const chat::Value& g : JsonLines(Dir() + "golden.jsonl")) {
    const std::string tname = Field(g, "template").str(), cname = Field(g, "conversation").str();
    auto& [tmpl, opts] = parsed.at(tname);
    ChatOptions o = opts;
    o.add_generation_prompt = Field(g, "add_generation_prompt").bool_value();
    const chat::Value& conv = convs.at(cname);
    if (!Field(conv, "tools").is_undefined()) o.tools_json = *chat::ToJson(Field(conv, "tools"), {});
    if (!Field(conv, "variables").is_undefined())
      for (const auto& [k, v] : Field(conv, "variables").dict()->items) o.extra_json.emplace_back(k, *chat::ToJson(v, {}));
    auto r = tmpl.Render(Field(conv, "messages"), o);
    SCOPED_TRACE(tname + " / " + cname + (o.add_generation_prompt ? " +gen" : ""));
    if (!Field(g, "error").is_undefined()) {
      ASSERT_FALSE(r.ok());
      const std::string& error = Field(g, "error").str();
      const std::string want = error.rfind("TemplateError: ", 0) == 0 ? "raise_exception: " + JinjaMessage(error)
                                                                       : JinjaMessage(error);
      EXPECT_TRUE(EndsWith(r.status().message(), want)) << r.status();
      ++errors;
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(*r, Field(g, "output").str());
      ++renders;
    }
  }
  // 16 templates x 8 conversations x with/without the generation prompt.
  EXPECT_EQ(renders + errors, 256);
  // Gemma 2 refuses system turns; Mistral and Gemma the tool turns.
  EXPECT_EQ(errors, 18);
}

TEST(ChatTemplate, ConstructsMatchJinja2) {
  auto constructs = chat::Value::FromJson(ReadFile(Dir() + "constructs.json"));
  auto conversations = chat::Value::FromJson(ReadFile(Dir() + "conversations.json"));
  ASSERT_TRUE(constructs.ok() && conversations.ok());
  chat::Value messages;
  for (const chat::Value& c : conversations->list())
    if (Field(c, "name").str() == "system-multi-turn") messages = Field(c, "messages");
  std::map<std::string, std::string> sources;
  for (const chat::Value& c : constructs->list()) sources[Field(c, "name").str()] = Field(c, "template").str();
  ChatOptions o;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  o.now = kNow;
  int n = 0;
  for (const chat::Value& g : JsonLines(Dir() + "constructs-golden.jsonl")) {
    const std::string name = Field(g, "name").str();
    SCOPED_TRACE(name);
    auto t = ChatTemplate::Parse(sources.at(name));
    ASSERT_TRUE(t.ok()) << t.status();
    auto r = t->Render(messages, o);
    if (!Field(g, "error").is_undefined()) {
      ASSERT_FALSE(r.ok()) << *r;
      EXPECT_TRUE(EndsWith(r.status().message(), JinjaMessage(Field(g, "error").str()))) << r.status();
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(*r, Field(g, "output").str());
    }
    ++n;
  }
  EXPECT_EQ(n, static_cast<int>(sources.size()));
}

TEST(ChatTemplate, ErrorsNameTheConstructAndWhere) {
  EXPECT_EQ(Render("{{ x|frobnicate }}"), "PARSE ERROR: chat template: line 1, column 6: unknown filter 'frobnicate'");
  EXPECT_EQ(Render("a\n{% if x is frob %}{% endif %}"),
            "PARSE ERROR: chat template: line 2, column 12: unknown test 'frob'");
  EXPECT_EQ(Render("{% for m in messages %}\n{{ m }}"),
            "PARSE ERROR: chat template: line 2, column 8: unexpected end of template: a block is not closed "
            "(expected 'else')");
  EXPECT_EQ(Render("{% if true %}x"),
            "PARSE ERROR: chat template: line 1, column 15: unexpected end of template: a block is not closed "
            "(expected 'elif')");
  EXPECT_EQ(Render("x {% endif %}"),
            "PARSE ERROR: chat template: line 1, column 6: unexpected 'endif' (no open block it could close)");
  EXPECT_EQ(Render("{% include 'other.jinja' %}"),
            "PARSE ERROR: chat template: line 1, column 4: unsupported tag 'include'");
  EXPECT_EQ(Render("{% for x in y recursive %}{% endfor %}"),
            "PARSE ERROR: chat template: line 1, column 15: unsupported: recursive loops");
  EXPECT_EQ(Render("ok {{ 'a' "), "PARSE ERROR: chat template: line 1, column 4: '{{' is not closed ('}}' missing)");
  EXPECT_EQ(Render("{# never closed"), "PARSE ERROR: chat template: line 1, column 1: comment is not closed ('#}' missing)");
  EXPECT_EQ(Render("{{ 'abc }}"), "PARSE ERROR: chat template: line 1, column 4: string literal is not closed");
  EXPECT_EQ(Render("{{ (1 + 2 }}"), "PARSE ERROR: chat template: line 1, column 11: unexpected '}', expected ')'");
  EXPECT_EQ(Render("{{ 1 $ 2 }}"), "PARSE ERROR: chat template: line 1, column 6: unexpected character '$'");
  EXPECT_EQ(Render("{% break %}"), "PARSE ERROR: chat template: line 1, column 4: 'break' outside a loop");
  EXPECT_EQ(Render("{{ }}"), "PARSE ERROR: chat template: line 1, column 4: unexpected '}}' in an expression");
  EXPECT_EQ(Render("{{ f(*args) }}"), "PARSE ERROR: chat template: line 1, column 6: unsupported: *args and **kwargs in calls");

  EXPECT_EQ(Render("{{ raise_exception('Conversation roles must alternate') }}"),
            "ERROR: chat template: line 1, column 4: raise_exception: Conversation roles must alternate");
  EXPECT_EQ(Render("\n  {{ messages[0].content + 1 }}"),
            "ERROR: chat template: line 2, column 26: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(Render("{{ nothing.attr }}"), "ERROR: chat template: line 1, column 4: 'nothing' is undefined");
  EXPECT_EQ(Render("{{ nothing() }}"), "ERROR: chat template: line 1, column 4: 'nothing' is undefined");
  EXPECT_EQ(Render("{% set x = 1 %}{% set x.y = 2 %}"),
            "ERROR: chat template: line 1, column 19: cannot assign attribute on non-namespace object");
  EXPECT_EQ(Render("{{ 1 // 0 }}"), "ERROR: chat template: line 1, column 6: integer division or modulo by zero");
  EXPECT_EQ(Render("{% for i in 5 %}{% endfor %}"), "ERROR: chat template: line 1, column 4: 'int' object is not iterable");
  EXPECT_EQ(Render("{{ range(200000) }}"),
            "ERROR: chat template: line 1, column 4: Range too big. The sandbox blocks ranges larger than MAX_RANGE "
            "(100000).");
  EXPECT_EQ(Render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
            "ERROR: chat template: line 1, column 19: macro calls nested too deeply");
}

TEST(ChatTemplate, RenderChatApiAndVariables) {
  ChatOptions o;
  o.bos_token = "<s>";
  o.extra_json = {{"enable_thinking", "false"}, {"n", "[1, 2]"}};
  o.tools_json = R"([{"type": "function", "function": {"name": "f"}}])";
  auto r = RenderChat("{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }};{% endfor %}"
                      "{{ enable_thinking }}{{ n|length }}{{ tools[0].function.name }}{{ add_generation_prompt }}",
                      {{"system", "S"}, {"user", "U"}}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "<s>system=S;user=U;False2fTrue");

  auto bad = ChatTemplate::Parse("x");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(std::string(bad->Render(std::string_view("{\"role\": \"user\"}"), ChatOptions{}).status().message()),
            "messages: expected a JSON array of message objects");
  o.extra_json = {{"bad", "[1,"}};
  EXPECT_FALSE(bad->Render(std::vector<ChatMessage>{}, o).ok());
}

TEST(ChatTemplate, PythonFloatRepr) {
  EXPECT_EQ(chat::PyFloatRepr(1.0), "1.0");
  EXPECT_EQ(chat::PyFloatRepr(0.1), "0.1");
  EXPECT_EQ(chat::PyFloatRepr(1e16), "1e+16");
  EXPECT_EQ(chat::PyFloatRepr(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(chat::PyFloatRepr(1e-5), "1e-05");
  EXPECT_EQ(chat::PyFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(chat::PyFloatRepr(-2.5), "-2.5");
}

// Malformed templates (every model template cut and spliced at random
// places) end in an error or a render, never a crash or a hang.
TEST(ChatTemplate, MalformedTemplatesNeverCrash) {
  std::vector<std::string> sources;
  for (const char* n : {"llama-3.1", "qwen3", "mistral-v3", "gemma-3", "deepseek-r1", "zephyr", "glm-4"})
    sources.push_back(ReadFile(Dir() + n + ".jinja"));
  std::mt19937 rng(17);
  int ok = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string& a = sources[rng() % sources.size()];
    const std::string& b = sources[rng() % sources.size()];
    const size_t cut = rng() % (a.size() + 1), from = rng() % (b.size() + 1);
    std::string s = a.substr(0, cut) + b.substr(from, rng() % 64);
    if (rng() % 2) s += a.substr(std::min(a.size(), cut + rng() % 8));
    auto t = ChatTemplate::Parse(s);
    if (!t.ok()) {
      ++failed;
      continue;
    }
    ChatOptions o;
    o.now = kNow;
    auto r = t->Render(std::vector<ChatMessage>{{"system", "s"}, {"user", "u"}, {"assistant", "a"}}, o);
    r.ok() ? ++ok : ++failed;
  }
  EXPECT_EQ(ok + failed, 3000);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace llmtk
