#pragma once
// A small command-line parser for the CLI's subcommands: --flag, --key VALUE, --key=VALUE and
// positional arguments. Unknown options are errors, so a typo never runs a long job by mistake.
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace mq::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Args {
public:
    // valueOptions take a value; flags do not; repeatable options may be given several times.
    Args(int argc, char** argv, int first, const std::set<std::string>& valueOptions,
         const std::set<std::string>& flags);

    bool flag(const std::string& name) const { return m_flags.count(name) != 0; }
    bool has(const std::string& name) const { return m_values.count(name) != 0; }
    std::string value(const std::string& name, const std::string& def = {}) const;
    std::vector<std::string> values(const std::string& name) const;
    std::string required(const std::string& name) const;
    int intValue(const std::string& name, int def) const;
    double doubleValue(const std::string& name, double def) const;
    const std::vector<std::string>& positional() const { return m_positional; }
    // These arguments over `defaults` (a recipe's): an option given here replaces all of its
    // values there, flags add up; `drop` is left out.
    Args over(const Args& defaults, const std::string& drop) const;

private:
    std::map<std::string, std::vector<std::string>> m_values;
    std::set<std::string> m_flags;
    std::vector<std::string> m_positional;
};

} // namespace mq::cli
