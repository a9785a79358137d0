"""Stage 3, the pages: one view module per page type (district, locality and Place, chapters, about pages),
with what they share (charts, tables and HTML, figure formatting, provenance, page-to-page context). The
notebooks call these; they glue and display, and never write files."""
