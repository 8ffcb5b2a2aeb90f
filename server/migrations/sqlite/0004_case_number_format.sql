-- A unit's own case-number format (`numbering::CaseNumberFormat`, checked before it is stored);
-- NULL numbers with the default `（{year}）{unit}{word}字第{number}号`.
ALTER TABLE units ADD COLUMN case_number_format TEXT;
