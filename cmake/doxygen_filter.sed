# Doxygen input filter for the public headers. Their comments are plain `//`
# (Google style), which Doxygen ignores: a comment line becomes `///` (the
# documentation of the declaration below it) and a comment after a member
# becomes `///<` (the documentation of that member).
s|^\( *\)// |\1/// |
s|^\( *\)//$|\1///|
s|\([;,]\) *// |\1 ///< |
# In comment lines, backslashes and placeholders such as <id> are text, not
# Doxygen commands or HTML tags.
/^ *\/\/\//{
  s|\\|\\\\|g
  s|<\([a-zA-Z_-]*\)>|\\<\1\\>|g
  s|#\([a-z]\)|\\#\1|g
}
s|\(///<.*[^\\]\)#\([a-z]\)|\1\\#\2|
s|\(///<.*[^\\]\)#\([a-z]\)|\1\\#\2|
