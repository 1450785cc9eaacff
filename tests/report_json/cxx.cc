// C++ names for demangled_name: members, templates, a lambda, operators,
// constructors and destructors, an anonymous namespace, extern "C".
#include <cstdio>
#include <string>
#include <vector>

namespace ns {
struct Box {
	int v;
	explicit Box(int x) : v(x) {}
	~Box() { v = 0; }
	int get() const { return v; }
	Box operator+(const Box &o) const { return Box(v + o.v); }
};
template <typename T> T twice(T v) { if (v > 10) return v; return v + v; }
}

namespace {
int hidden(const std::vector<int> &xs)
{
	int s = 0;
	for (int x : xs)
		s += x;
	return s;
}
}

extern "C" int plain_c(int x) { return x + 1; }

int main(int argc, char **)
{
	ns::Box b{argc};
	ns::Box c = b + ns::Box(2);
	auto f = [](int x) { return x * 3; };
	std::vector<int> xs{1, 2, argc};
	long r = ns::twice<long>(c.get()) + ns::twice<int>(f(argc)) + plain_c(argc) + hidden(xs);
	std::string s = std::to_string(r);
	std::printf("%s\n", s.c_str());
	return 0;
}
