namespace seedscope {
const char* version_string() { return SEEDSCOPE_VERSION_STRING; }
} // namespace seedscope
