#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace mq::cli {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& valueOptions,
           const std::set<std::string>& flags)
{
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0 || a == "--") {
            m_positional.push_back(a);
            continue;
        }
        std::string name = a.substr(2), val;
        const auto eq = name.find('=');
        const bool inlineValue = eq != std::string::npos;
        if (inlineValue) {
            val = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (flags.count(name)) {
            if (inlineValue)
                throw UsageError("--" + name + " takes no value");
            m_flags.insert(name);
        } else if (valueOptions.count(name)) {
            if (!inlineValue) {
                if (i + 1 >= argc)
                    throw UsageError("--" + name + " needs a value");
                val = argv[++i];
            }
            m_values[name].push_back(val);
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

Args Args::over(const Args& defaults, const std::string& drop) const
{
    Args out = defaults;
    for (const auto& [name, v] : m_values)
        out.m_values[name] = v;
    out.m_flags.insert(m_flags.begin(), m_flags.end());
    out.m_positional = m_positional;
    out.m_values.erase(drop);
    out.m_flags.erase(drop);
    return out;
}

std::string Args::value(const std::string& name, const std::string& def) const
{
    auto it = m_values.find(name);
    return it == m_values.end() ? def : it->second.back();
}

std::vector<std::string> Args::values(const std::string& name) const
{
    auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::required(const std::string& name) const
{
    if (!has(name))
        throw UsageError("--" + name + " is required");
    return value(name);
}

int Args::intValue(const std::string& name, int def) const
{
    if (!has(name))
        return def;
    const std::string v = value(name);
    char* end = nullptr;
    errno = 0;
    const long r = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0')
        throw UsageError("--" + name + " expects an integer, got '" + v + "'");
    if (errno == ERANGE || r < std::numeric_limits<int>::min() || r > std::numeric_limits<int>::max())
        throw UsageError("--" + name + " is out of range, got '" + v + "'");
    return int(r);
}

double Args::doubleValue(const std::string& name, double def) const
{
    if (!has(name))
        return def;
    const std::string v = value(name);
    char* end = nullptr;
    const double r = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0')
        throw UsageError("--" + name + " expects a number, got '" + v + "'");
    if (!std::isfinite(r)) // nan, inf and overflow: no option of this tool takes them
        throw UsageError("--" + name + " expects a finite number, got '" + v + "'");
    return r;
}

} // namespace mq::cli
