"""Number formats for zh-hans over Django's (FORMAT_MODULE_PATH): thousands grouped by three
with a comma, as the statistics and finance reports users compare with print them
(``280,500``). Django's zh_Hans locale has no separator (``THOUSAND_SEPARATOR = ""``), so
``intcomma`` printed ``280500``. Only what is forced to group changes (``intcomma``,
``floatformat:"2g"``): USE_THOUSAND_SEPARATOR stays off, so ids and years print as they are.
Every other format comes from Django's zh_Hans module."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
