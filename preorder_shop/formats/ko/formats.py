"""Korean formats where Django's ko locale is wrong for a Korean shop.

Korean writes the half of the day before the hour: "2026년 10월 12일 오전 6:16", never
"6:16 오전" (Django's DATETIME_FORMAT is "Y년 n월 j일 g:i A"). The short form keeps Django's
dashed date but uses the same 12-hour clock as every other time on the site, so a page never
shows "14:05" beside "오후 2:05". TIME_FORMAT ("A g:i"), DATE_FORMAT ("Y년 n월 j일") and the
input formats are Django's and right.
"""

DATETIME_FORMAT = "Y년 n월 j일 A g:i"
SHORT_DATETIME_FORMAT = "Y-n-j A g:i"
