// The emulated JIT's reading of a PTX module (cuModuleLoadDataEx): it does not compile PTX — the kernels run from
// their .cu source — but it reads every statement of every function as ptxas would before accepting a module, and
// fails the load with a ptxas-style log naming the line:
//   - each instruction is `[@[!]%p] opcode[.modifier...] operands;`, its opcode one of PTX's (kOpcodes), its
//     modifiers words, its statement ended by ';' (a line such as `bogus.instruction;` or `mov.u32 %r1, 0` without
//     its ';' fails);
//   - every %register an instruction names is declared by a .reg of the function (`%r<N>` declares %r0 … %r(N−1)) or
//     is a special register (%tid, %ctaid, …);
//   - directives inside a function are those PTX allows there; braces balance.
// It also collects what the driver needs of each entry: its parameters' sizes (held to the compiled kernel's
// declared struct), .maxntid/.reqntid, and the static .shared bytes it uses.
#pragma once

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace device {
namespace ptx {

// PTX instruction names (the ISA's, through PTX 8.x).
inline const std::set<std::string_view>& opcodes() {
  static const std::set<std::string_view> names = {
      "abs", "activemask", "add", "addc", "alloca", "and", "applypriority", "atom", "bar", "barrier", "bfe", "bfi",
      "bfind", "bmsk", "bra", "brev", "brkpt", "brx", "call", "clz", "cnot", "copysign", "cos", "cp", "createpolicy",
      "cvt", "cvta", "discard", "div", "dp2a", "dp4a", "elect", "ex2", "exit", "fence", "fma", "fns", "getctarank",
      "griddepcontrol", "isspacep", "istypeof", "ld", "ldmatrix", "ldu", "lg2", "lop3", "mad", "mad24", "madc", "mapa",
      "match", "max", "mbarrier", "membar", "min", "mma", "mov", "movmatrix", "mul", "mul24", "multimem", "nanosleep",
      "neg", "not", "or", "pmevent", "popc", "prefetch", "prefetchu", "prmt", "rcp", "red", "redux", "rem", "ret",
      "rsqrt", "sad", "selp", "set", "setmaxnreg", "setp", "shf", "shfl", "shl", "shr", "sin", "slct", "sqrt", "st",
      "stackrestore", "stacksave", "stmatrix", "sub", "subc", "suld", "suq", "sured", "sust", "szext", "tanh", "testp",
      "tex", "tld4", "trap", "txq", "vabsdiff", "vabsdiff2", "vabsdiff4", "vadd", "vadd2", "vadd4", "vavrg2", "vavrg4",
      "vmad", "vmax", "vmax2", "vmax4", "vmin", "vmin2", "vmin4", "vote", "vset", "vset2", "vset4", "vshl", "vshr",
      "vsub", "vsub2", "vsub4", "wgmma", "wmma", "xor"};
  return names;
}

// Directives a function body may hold.
inline const std::set<std::string_view>& body_directives() {
  static const std::set<std::string_view> names = {"reg", "local", "shared", "param", "pragma", "loc", "const",
                                                   "callprototype", "calltargets", "branchtargets", "global"};
  return names;
}

// Special registers (PTX ISA chapter 10), by name without their .x/.y/.z.
inline bool special_register(std::string_view name) {
  static const std::set<std::string_view> names = {
      "%tid", "%ntid", "%laneid", "%warpid", "%nwarpid", "%ctaid", "%nctaid", "%smid", "%nsmid", "%gridid",
      "%lanemask_eq", "%lanemask_le", "%lanemask_lt", "%lanemask_ge", "%lanemask_gt", "%clock", "%clock_hi",
      "%clock64", "%globaltimer", "%globaltimer_lo", "%globaltimer_hi", "%total_smem_size", "%aggr_smem_size",
      "%dynamic_smem_size", "%reserved_smem_offset_begin", "%reserved_smem_offset_end", "%reserved_smem_offset_cap",
      "%reserved_smem_offset_0", "%reserved_smem_offset_1", "%cluster_ctaid", "%cluster_nctaid", "%cluster_ctarank",
      "%cluster_nctarank", "%is_explicit_cluster", "%clusterid", "%nclusterid", "%current_graph_exec"};
  if (names.count(name)) return true;
  for (std::string_view prefix : {"%pm", "%envreg"}) {
    if (name.substr(0, prefix.size()) == prefix && name.size() > prefix.size() &&
        std::isdigit(static_cast<unsigned char>(name[prefix.size()]))) {
      return true;
    }
  }
  return false;
}

struct Entry {
  std::string name;
  int line = 0;
  std::vector<size_t> param_bytes;  // each .param's size, in order
  int max_threads = 1024;           // .maxntid / .reqntid (its __launch_bounds__)
  int static_shared = 0;            // bytes of the .shared variables it declares or names
  bool only_returns = false;        // no instruction but ret/exit (the tests' hand-written modules)
};

struct Module {
  int version = 0;  // .version major · 10 + minor, as CU_FUNC_ATTRIBUTE_PTX_VERSION reports it
  std::vector<Entry> entries;
};

inline bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The byte count of a `.param`/`.shared` declaration: `.b8 name[272]`, `.u64 name`, `.align 4 .b8 name[2048]`.
inline size_t declared_bytes(std::string_view decl) {
  size_t bits = 0;
  for (size_t i = 0; i + 2 < decl.size(); ++i) {
    if (decl[i] == '.' && std::string_view("busf").find(decl[i + 1]) != std::string_view::npos &&
        std::isdigit(static_cast<unsigned char>(decl[i + 2])) && (i == 0 || !word_char(decl[i - 1]))) {
      bits = std::strtoul(decl.data() + i + 2, nullptr, 10);
    }
  }
  size_t count = 1;
  const size_t bracket = decl.rfind('[');
  if (bracket != std::string_view::npos && bracket + 1 < decl.size() && decl[bracket + 1] != ']') {
    count = std::strtoul(decl.data() + bracket + 1, nullptr, 10);
  }
  return bits / 8 * count;
}

// The name a declaration declares: the last word before its '[' (or its end).
inline std::string declared_name(std::string_view decl) {
  size_t end = decl.find('[');
  if (end == std::string_view::npos) end = decl.size();
  std::string_view head = trim(decl.substr(0, end));
  size_t start = head.size();
  while (start > 0 && (word_char(head[start - 1]) || head[start - 1] == '%')) --start;
  return std::string(head.substr(start));
}

class Reader {
 public:
  explicit Reader(std::string& log) : log_(log) {}

  bool read(const std::string& text, Module& module) {
    module_ = &module;
    std::string statement;
    int statement_line = 1, line = 1, operand_braces = 0;
    bool in_comment = false;
    for (size_t i = 0; i < text.size() && errors_ == 0; ++i) {
      const char c = text[i];
      if (in_comment) {
        if (c == '\n') ++line;
        if (c == '*' && i + 1 < text.size() && text[i + 1] == '/') in_comment = false, ++i;
        continue;
      }
      if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
        while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
        continue;
      }
      if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
        in_comment = true;
        ++i;
        continue;
      }
      if (c == '"') {  // strings (.pragma, .file) are copied as they are
        statement += c;
        while (i + 1 < text.size() && text[i + 1] != '"' && text[i + 1] != '\n') statement += text[++i];
        continue;
      }
      if (trim(statement).empty()) statement_line = line;
      if (c == '\n') {
        ++line;
        if (ends_at_newline(statement)) {
          directive_or_statement(statement, statement_line, false);
          statement.clear();
        } else if (depth_ > 0 && !continues(statement, text, i + 1)) {
          directive_or_statement(statement, statement_line, false);  // a statement the line ends without its ';'
          statement.clear();
        } else {
          statement += ' ';
        }
      } else if (c == ';') {
        if (operand_braces != 0) error(statement_line, "unbalanced braces in '" + std::string(trim(statement)) + "'");
        directive_or_statement(statement, statement_line, true);
        statement.clear();
        operand_braces = 0;
      } else if (c == '{') {
        if (opens_block(statement)) {
          open_block(statement, statement_line);
          statement.clear();
        } else {
          statement += c;
          ++operand_braces;
        }
      } else if (c == '}') {
        if (operand_braces > 0) {
          statement += c;
          --operand_braces;
        } else {
          if (!trim(statement).empty()) directive_or_statement(statement, statement_line, false);
          statement.clear();
          close_block(line);
        }
      } else {
        statement += c;
      }
    }
    if (errors_ == 0 && !trim(statement).empty()) directive_or_statement(statement, statement_line, false);
    if (errors_ == 0 && depth_ != 0) error(line, "unexpected end of file: a '{' is never closed");
    if (errors_ == 0 && !saw_version_) error(1, "no .version directive: not a PTX module");
    if (errors_ == 0 && !saw_target_) error(1, "no .target directive");
    if (errors_ > 0) log_ += "ptxas fatal   : Ptx assembly aborted due to errors";
    return errors_ == 0;
  }

 private:
  // Directives that end at their line, without ';'.
  static bool ends_at_newline(std::string_view statement) {
    const std::string_view s = trim(statement);
    for (std::string_view d : {".version", ".target", ".address_size", ".file", ".loc", ".section"}) {
      if (s.substr(0, d.size()) == d) return true;
    }
    return false;
  }

  // Whether a statement inside a function goes on past the end of its line: only where the line ends inside an operand
  // list (after ',', '(', '{' or '[') or the next line carries on one (with ',', ')', '}' or ']'), as a long call's
  // argument list does. A blank statement or a lone label goes on too.
  static bool continues(std::string_view statement, const std::string& text, size_t next) {
    std::string_view s = trim(statement);
    strip_labels(s);
    if (s.empty()) return true;
    if (std::string_view(",({[").find(s.back()) != std::string_view::npos) return true;
    while (next < text.size() && (text[next] == ' ' || text[next] == '\t')) ++next;
    return next < text.size() && std::string_view(",)}]").find(text[next]) != std::string_view::npos;
  }

  // A '{' opens a block at module scope after a function header, and inside a function where no statement is under
  // way (a label may precede it); anywhere else it is an operand brace ({%r1, %r2}, an initialiser list).
  bool opens_block(std::string_view statement) const {
    std::string_view s = trim(statement);
    if (depth_ == 0) return s.find(".entry") != std::string_view::npos || s.find(".func") != std::string_view::npos;
    strip_labels(s);
    return s.empty();
  }

  void open_block(std::string_view header, int line) {
    if (depth_ == 0) {
      start_function(trim(header), line);
    } else {
      std::string_view s = trim(header);
      strip_labels(s);
    }
    ++depth_;
  }

  void close_block(int line) {
    if (depth_ == 0) {
      error(line, "unexpected '}'");
      return;
    }
    if (--depth_ == 0) finish_function();
  }

  // Removes leading `label:` prefixes.
  static void strip_labels(std::string_view& s) {
    for (;;) {
      size_t n = 0;
      while (n < s.size() && (word_char(s[n]) || s[n] == '.' || s[n] == '%')) ++n;
      size_t colon = n;
      while (colon < s.size() && s[colon] == ' ') ++colon;
      // `name:` is a label; `name::` is a state space's sub-qualifier (mbarrier.init.shared::cta).
      if (n == 0 || colon >= s.size() || s[colon] != ':' || (colon + 1 < s.size() && s[colon + 1] == ':')) return;
      s = trim(s.substr(colon + 1));
    }
  }

  void start_function(std::string_view header, int line) {
    registers_.clear();
    ranges_.clear();
    body_shared_ = 0;
    body_names_.clear();
    only_returns_ = true;
    in_entry_ = header.find(".entry") != std::string_view::npos;
    if (!in_entry_) return;
    Entry entry;
    entry.line = line;
    const size_t at = header.find(".entry") + 6;
    const size_t open = header.find('(', at);
    entry.name = std::string(trim(header.substr(at, open == std::string_view::npos ? std::string_view::npos : open - at)));
    if (open != std::string_view::npos) {
      const size_t close = header.find(')', open);
      std::string_view list = header.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
      while (!trim(list).empty()) {
        const size_t comma = list.find(',');
        const std::string_view param = trim(list.substr(0, comma));
        if (param.substr(0, 6) != ".param") error(line, "'" + std::string(param) + "' is not a .param");
        entry.param_bytes.push_back(declared_bytes(param));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
      const std::string_view after = close == std::string_view::npos ? std::string_view() : header.substr(close + 1);
      for (std::string_view d : {".maxntid", ".reqntid"}) {
        const size_t p = after.find(d);
        if (p == std::string_view::npos) continue;
        int product = 1;
        const char* s = after.data() + p + d.size();
        for (int k = 0; k < 3; ++k) {
          char* end = nullptr;
          const long v = std::strtol(s, &end, 10);
          if (end == s) break;
          product *= static_cast<int>(v);
          s = end;
          while (*s == ' ' || *s == ',') ++s;
        }
        entry.max_threads = product;
      }
    }
    entries_.push_back(entry);
  }

  void finish_function() {
    if (!in_entry_) return;
    Entry& entry = entries_.back();
    entry.only_returns = only_returns_;
    entry.static_shared = body_shared_;
    for (const auto& [name, bytes] : module_shared_) {
      if (body_names_.count(name)) entry.static_shared += bytes;
    }
    module_->entries.push_back(entry);
  }

  void directive_or_statement(std::string_view raw, int line, bool terminated) {
    std::string_view s = trim(raw);
    if (s.empty()) return;
    if (depth_ == 0) {
      module_statement(s, line);
      return;
    }
    strip_labels(s);
    if (s.empty()) return;
    if (s[0] == '.') {
      body_directive(s, line);
      return;
    }
    instruction(s, line, terminated);
  }

  void module_statement(std::string_view s, int line) {
    if (s.substr(0, 8) == ".version") {
      saw_version_ = true;
      const std::string v(trim(s.substr(8)));
      const int major = std::atoi(v.c_str());
      const size_t dot = v.find('.');
      module_->version = major * 10 + (dot == std::string::npos ? 0 : std::atoi(v.c_str() + dot + 1));
    } else if (s.substr(0, 7) == ".target") {
      saw_target_ = true;
    } else if (s[0] != '.') {
      error(line, "'" + std::string(s.substr(0, s.find_first_of(" \t"))) + "' outside a function");
    } else if (s.find(".shared") != std::string_view::npos && s.find(".extern") == std::string_view::npos &&
               s.find('(') == std::string_view::npos) {
      module_shared_[declared_name(s)] = static_cast<int>(declared_bytes(s));  // `.extern` ones are dynamic
    }
  }

  void body_directive(std::string_view s, int line) {
    size_t n = 1;
    while (n < s.size() && word_char(s[n])) ++n;
    const std::string_view name = s.substr(1, n - 1);
    if (!body_directives().count(name)) {
      error(line, "Unknown directive '." + std::string(name) + "' in a function body");
      return;
    }
    if (name == "reg") {
      declare_registers(s.substr(n), line);
    } else if (name == "shared") {
      body_shared_ += static_cast<int>(declared_bytes(s));
    }
  }

  // `.reg .b32 %r<58>;`, `.reg .pred %p, %q;`, `.reg .v4 .f32 %v;`: the names after the types.
  void declare_registers(std::string_view s, int line) {
    std::string_view list = trim(s);
    while (!list.empty() && list[0] == '.') {
      size_t n = 1;
      while (n < list.size() && word_char(list[n])) ++n;
      list = trim(list.substr(n));
    }
    if (list.empty()) error(line, ".reg declares no register");
    while (!trim(list).empty()) {
      const size_t comma = list.find(',');
      std::string_view reg = trim(list.substr(0, comma));
      const size_t angle = reg.find('<');
      if (angle != std::string_view::npos) {
        ranges_[std::string(trim(reg.substr(0, angle)))] = std::atoi(std::string(reg.substr(angle + 1)).c_str());
      } else {
        registers_.insert(std::string(reg.substr(0, reg.find('['))));
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }

  bool declared_register(const std::string& name) const {
    if (registers_.count(name)) return true;
    size_t digits = name.size();
    while (digits > 1 && std::isdigit(static_cast<unsigned char>(name[digits - 1]))) --digits;
    if (digits == name.size()) return false;
    auto it = ranges_.find(name.substr(0, digits));
    return it != ranges_.end() && std::atoi(name.c_str() + digits) < it->second;
  }

  void instruction(std::string_view s, int line, bool terminated) {
    if (s[0] == '@') {  // a guard predicate: @%p1 or @!%p1
      size_t n = 1;
      if (n < s.size() && s[n] == '!') ++n;
      const size_t start = n;
      while (n < s.size() && (word_char(s[n]) || s[n] == '%')) ++n;
      check_operands(s.substr(start, n - start), line);
      s = trim(s.substr(n));
    }
    size_t end = 0;
    while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end])) && s[end] != '{' && s[end] != '[') ++end;
    const std::string_view opcode = s.substr(0, end);
    const std::string_view base = opcode.substr(0, opcode.find('.'));
    if (!opcodes().count(base)) {
      error(line, "Not a name of any known instruction: '" + std::string(base) + "' (in '" + std::string(s) + "')");
      return;
    }
    for (size_t i = base.size(); i < opcode.size(); ++i) {
      // A modifier may carry `::` sub-qualifiers (.shared::cta, .mbarrier::complete_tx::bytes), word to word.
      if (opcode[i] == ':' && i + 2 < opcode.size() && opcode[i + 1] == ':' && word_char(opcode[i - 1]) &&
          word_char(opcode[i + 2])) {
        ++i;
        continue;
      }
      if (opcode[i] != '.' && !word_char(opcode[i])) {
        error(line, "syntax error in the instruction '" + std::string(opcode) + "'");
        return;
      }
      if (opcode[i] == '.' && (i + 1 == opcode.size() || opcode[i + 1] == '.')) {
        error(line, "empty modifier in the instruction '" + std::string(opcode) + "'");
        return;
      }
    }
    if (!terminated) {
      error(line, "syntax error: '" + std::string(s) + "' is not ended by ';'");
      return;
    }
    if (base != "ret" && base != "exit") only_returns_ = false;
    check_operands(s.substr(end), line);
  }

  // Every %name is a declared or a special register; every other word may be a symbol (.shared variables).
  void check_operands(std::string_view operands, int line) {
    for (size_t i = 0; i < operands.size(); ++i) {
      if (operands[i] == '%') {
        size_t n = i + 1;
        while (n < operands.size() && word_char(operands[n])) ++n;
        const std::string name(operands.substr(i, n - i));
        if (!declared_register(name) && !special_register(name)) {
          error(line, "Unknown symbol '" + name + "'");
          return;
        }
        i = n - 1;
      } else if (word_char(operands[i]) && (i == 0 || !word_char(operands[i - 1]))) {
        size_t n = i;
        while (n < operands.size() && word_char(operands[n])) ++n;
        body_names_.insert(std::string(operands.substr(i, n - i)));
        i = n - 1;
      }
    }
  }

  void error(int line, const std::string& what) {
    ++errors_;
    log_ += "ptxas application ptx input, line " + std::to_string(line) + "; error   : " + what + "\n";
  }

  std::string& log_;
  Module* module_ = nullptr;
  int depth_ = 0, errors_ = 0;
  bool saw_version_ = false, saw_target_ = false;
  bool in_entry_ = false, only_returns_ = true;
  int body_shared_ = 0;
  std::set<std::string> registers_, body_names_;
  std::map<std::string, int> ranges_;
  std::map<std::string, int> module_shared_;
  std::vector<Entry> entries_;
};

// Reads a module; on failure `log` holds the errors as ptxas words them (one line each, then the fatal line).
inline bool read_module(const char* text, Module& module, std::string& log) {
  Reader reader(log);
  if (!reader.read(text, module)) return false;
  if (module.entries.empty()) {
    log = "ptxas application ptx input: the module declares no .entry";
    return false;
  }
  return true;
}

}  // namespace ptx
}  // namespace device
