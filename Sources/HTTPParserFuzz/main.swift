import HTTPParser
// Replaced by the fuzz work.
print("fuzz placeholder")
