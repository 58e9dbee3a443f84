-- The inserted rows of one landed file as the view landed that coverage.py and keys.py read
-- (<text_columns>: each declared column cast back to text). Integer and text values are the
-- texts as delivered (each was accepted only as its own exact text); a DOUBLE is its value's text.
create or replace temp view landed as
select ${text_columns}
from landed_rows
