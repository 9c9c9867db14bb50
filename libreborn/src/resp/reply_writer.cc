#include "resp/reply_writer.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reborn::resp {

void ReplyWriter::Header(char type, int64_t n) {
  out_->push_back(type);
  absl::StrAppend(out_, n);
  out_->append("\r\n");
}

void ReplyWriter::SimpleString(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n");
}

void ReplyWriter::Error(std::string_view message) {
  out_->push_back('-');
  for (char c : message) out_->push_back(c == '\r' || c == '\n' ? ' ' : c);
  out_->append("\r\n");
}

void ReplyWriter::Integer(int64_t value) { Header(':', value); }

void ReplyWriter::Bulk(std::string_view s) {
  Header('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n");
}

void ReplyWriter::Null() { out_->append(protocol_ >= 3 ? "_\r\n" : "$-1\r\n"); }

void ReplyWriter::NullArray() {
  out_->append(protocol_ >= 3 ? "_\r\n" : "*-1\r\n");
}

void ReplyWriter::ArrayHeader(size_t n) {
  Header('*', static_cast<int64_t>(n));
}

void ReplyWriter::MapHeader(size_t n) {
  if (protocol_ >= 3) {
    Header('%', static_cast<int64_t>(n));
  } else {
    Header('*', static_cast<int64_t>(2 * n));
  }
}

void ReplyWriter::SetHeader(size_t n) {
  Header(protocol_ >= 3 ? '~' : '*', static_cast<int64_t>(n));
}

void ReplyWriter::PushHeader(size_t n) {
  Header(protocol_ >= 3 ? '>' : '*', static_cast<int64_t>(n));
}

void ReplyWriter::Verbatim(std::string_view text, std::string_view format) {
  if (protocol_ < 3) return Bulk(text);
  Header('=', static_cast<int64_t>(format.size() + 1 + text.size()));
  out_->append(format);
  out_->push_back(':');
  out_->append(text);
  out_->append("\r\n");
}

void ReplyWriter::Double(double value) {
  std::string text = FormatDouble(value);
  if (protocol_ >= 3) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n");
  } else {
    Bulk(text);
  }
}

void ReplyWriter::Bool(bool value) {
  if (protocol_ >= 3) {
    out_->append(value ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(value ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyWriter::BulkArray(const std::vector<std::string>& items) {
  ArrayHeader(items.size());
  for (const auto& item : items) Bulk(item);
}

std::string FormatDouble(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  int len = std::snprintf(buf, sizeof(buf), "%.17g", value);
  return std::string(buf, static_cast<size_t>(len));
}

}  // namespace reborn::resp
