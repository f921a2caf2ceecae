-- Work with Accounts: the customer accounts a rep may choose to act for.
--
-- An account is a parent in the default address-book structure (F0150 with a blank
-- MAOSTP) whose search type is the customer type, and which is not itself a child in
-- that structure (billing addresses are children of the account, shipping addresses
-- children of a billing address). The gateway loads this file once at start-up,
-- checks it, qualifies the tables with the JDE schema, and ANDs a rep's compiled
-- restriction (in parentheses) onto the WHERE clause. Filters name the output columns.
--
-- Bound by the gateway, never pasted:
--   :wwa_today    today as a JDE Julian date (CYYDDD)
--   :wwa_company  the company the portal sells from (settings.company)
-- The fixed codes are written padded as JDE stores them, as literals (so that planners
-- see them): '   ' the default F0150 structure, 'C  ' the customer search type, '    '
-- the main phone's type, 'E   ' e-mail, '00000' the customer master row every customer has.
SELECT
    AB.ABAN8,
    AB.ABALPH,
    AB.ABDC,
    AB.ABALKY,
    AB.ABAT1,
    AB.ABMCU,
    AB.ABAC01,
    AB.ABAC02,
    AB.ABAC03,
    AB.ABAC04,
    AB.ABAC05,
    AB.ABAC06,
    AB.ABAC07,
    AB.ABAC08,
    AB.ABAC09,
    AB.ABAC10,
    AB.ABAC11,
    AB.ABAC12,
    AB.ABAC13,
    AB.ABAC14,
    AB.ABAC15,
    AB.ABAC16,
    AB.ABAC17,
    AB.ABAC18,
    AB.ABAC19,
    AB.ABAC20,
    AB.ABAC21,
    AB.ABAC22,
    AB.ABAC23,
    AB.ABAC24,
    AB.ABAC25,
    AB.ABAC26,
    AB.ABAC27,
    AB.ABAC28,
    AB.ABAC29,
    AB.ABAC30,
    AL.ALAN8,
    AL.ALCTY1,
    AL.ALADDS,
    AL.ALADDZ,
    AL.ALCTR,
    AI.AICO,
    AI.AICRCD,
    AI.AICPGP,
    (SELECT MIN(TRIM(WP.WPAR1) || ' ' || TRIM(WP.WPPH1))
       FROM F0115 WP
      WHERE WP.WPAN8 = AB.ABAN8 AND WP.WPIDLN = 0 AND WP.WPPHTP = '    ') AS PHONE,
    (SELECT MIN(EA.EAEMAL)
       FROM F01151 EA
      WHERE EA.EAAN8 = AB.ABAN8 AND EA.EAIDLN = 0 AND EA.EAETP = 'E   ') AS EMAIL
FROM F0101 AB
-- The current postal address: effective on or before today, with no later such row.
-- (Written as NOT EXISTS rather than = (SELECT MAX ...): planners estimate the anti-join
-- well and keep walking an index in the page's order; the MAX form made PostgreSQL hash
-- all of F0116 for a page of 50.)
JOIN F0116 AL
  ON AL.ALAN8 = AB.ABAN8
 AND AL.ALEFTB <= :wwa_today
 AND NOT EXISTS (SELECT 1 FROM F0116 AL2
                  WHERE AL2.ALAN8 = AL.ALAN8 AND AL2.ALEFTB > AL.ALEFTB AND AL2.ALEFTB <= :wwa_today)
-- The customer master row of the selling company, else the default company's row.
-- MAX picks the selling company's row: company codes are zero-padded digits, 00000 lowest.
LEFT JOIN F03012 AI
  ON AI.AIAN8 = AB.ABAN8
 AND AI.AICO = (SELECT MAX(AI2.AICO) FROM F03012 AI2
                 WHERE AI2.AIAN8 = AB.ABAN8 AND AI2.AICO IN (:wwa_company, '00000'))
WHERE AB.ABAT1 = 'C  '
  AND EXISTS (SELECT 1 FROM F0150 CH
               WHERE CH.MAOSTP = '   ' AND CH.MAPA8 = AB.ABAN8)
  AND NOT EXISTS (SELECT 1 FROM F0150 PA
                   WHERE PA.MAOSTP = '   ' AND PA.MAAN8 = AB.ABAN8)
ORDER BY AB.ABAN8
