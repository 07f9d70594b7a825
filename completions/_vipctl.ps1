
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'vipctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'vipctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'vipctl' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the database and load a program')
            [CompletionResult]::new('program', 'program', [CompletionResultType]::ParameterValue, 'Show, set or check the points program')
            [CompletionResult]::new('enroll', 'enroll', [CompletionResultType]::ParameterValue, 'Enrol one member from flags, or many from a CSV file (R1–R6)')
            [CompletionResult]::new('purchase', 'purchase', [CompletionResultType]::ParameterValue, 'Credit points from till receipts: one from flags, or the nightly file (R7–R15)')
            [CompletionResult]::new('staff', 'staff', [CompletionResultType]::ParameterValue, 'Register and list the staff who serve members (R3, R33)')
            [CompletionResult]::new('member', 'member', [CompletionResultType]::ParameterValue, 'Look up and manage members')
            [CompletionResult]::new('redeem', 'redeem', [CompletionResultType]::ParameterValue, 'Redeem points for a reward or a cash offset, oldest-expiring first (R16–R18)')
            [CompletionResult]::new('adjust', 'adjust', [CompletionResultType]::ParameterValue, 'A manual correction entry in the ledger (R21), or opening balances from a file')
            [CompletionResult]::new('tier-recompute', 'tier-recompute', [CompletionResultType]::ParameterValue, 'Re-rank every member by the ladder''s conditions as of a date (R22–R26)')
            [CompletionResult]::new('year-end-reset', 'year-end-reset', [CompletionResultType]::ParameterValue, 'Expire the points a calendar-year program ends with a year (R27–R30)')
            [CompletionResult]::new('expire', 'expire', [CompletionResultType]::ParameterValue, 'Expire what a per-lot or inactivity program ends by a date (R29, R30)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export tiers, members, the ledger or receipts as CSV (R34, R35)')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Reports for analysts (R34)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'The receipts files imported (`purchase --file`), and undoing one')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'What a draft program would change: points, tiers, liability; writes nothing')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Check every invariant of the ledger; exit 1 naming each violation')
            [CompletionResult]::new('journal', 'journal', [CompletionResultType]::ParameterValue, 'Who did what and when: exports, program changes, adjustments, undos (R35)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Bring an older database''s schema up to date (after copying it to FILE.pre-vN)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Copy the database to an empty PostgreSQL database or a new SQLite file, verified')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a manual page (roff), generated from the same definitions as --help')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;init' {
            [CompletionResult]::new('--program', '--program', [CompletionResultType]::ParameterName, 'The program file (TOML); without it, the built-in default program')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;program' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the program in force (its TOML, or in plain words with --explain)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a new program version (old versions are kept)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a program file and explain it, without storing it')
            [CompletionResult]::new('versions', 'versions', [CompletionResultType]::ParameterValue, 'List the stored program versions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;program;show' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'An older version (see `program versions`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Explain in plain words instead of printing the TOML')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;program;set' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;program;check' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;program;versions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;program;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the program in force (its TOML, or in plain words with --explain)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a new program version (old versions are kept)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a program file and explain it, without storing it')
            [CompletionResult]::new('versions', 'versions', [CompletionResultType]::ParameterValue, 'List the stored program versions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;program;help;show' {
            break
        }
        'vipctl;program;help;set' {
            break
        }
        'vipctl;program;help;check' {
            break
        }
        'vipctl;program;help;versions' {
            break
        }
        'vipctl;program;help;help' {
            break
        }
        'vipctl;enroll' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A CSV file of members (`-` for stdin)')
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)')
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s encoding (default: detected)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The member''s name as on their ID (required without --file)')
            [CompletionResult]::new('--phone', '--phone', [CompletionResultType]::ParameterName, 'Mobile phone, 11 digits (R2: one active member per phone)')
            [CompletionResult]::new('--id-number', '--id-number', [CompletionResultType]::ParameterName, 'Resident ID number, 18 characters, checksum checked (R1, R2)')
            [CompletionResult]::new('--birthday', '--birthday', [CompletionResultType]::ParameterName, 'Default: the birth date in an 18-digit resident ID')
            [CompletionResult]::new('--gender', '--gender', [CompletionResultType]::ParameterName, 'M or F')
            [CompletionResult]::new('--card', '--card', [CompletionResultType]::ParameterName, 'Card number (default: the member number)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store that enrolled them (R33)')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'The staff member who enrolled them')
            [CompletionResult]::new('--receipt', '--receipt', [CompletionResultType]::ParameterName, 'A qualifying receipt with no member, STORE:RECEIPT (repeatable, R6)')
            [CompletionResult]::new('--consent', '--consent', [CompletionResultType]::ParameterName, 'Marketing consent: yes or no (no: never on care or birthday lists)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;purchase' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A receipts CSV file (`-` for stdin)')
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr). Never the database, one of its files, or the input')
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s encoding (default: detected)')
            [CompletionResult]::new('--rows-per-commit', '--rows-per-commit', [CompletionResultType]::ParameterName, 'Rows per committed chunk')
            [CompletionResult]::new('--member', '--member', [CompletionResultType]::ParameterName, 'Card number, member number or phone')
            [CompletionResult]::new('--return-of', '--return-of', [CompletionResultType]::ParameterName, 'Record a return of this sale (same --store) instead of a sale (R20)')
            [CompletionResult]::new('--amount', '--amount', [CompletionResultType]::ParameterName, 'Money paid, in yuan')
            [CompletionResult]::new('--list-amount', '--list-amount', [CompletionResultType]::ParameterName, 'The list price, for discount bands (R9)')
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Product category, for category rates and no-points categories (R8)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store code (with --receipt, identifies the receipt)')
            [CompletionResult]::new('--receipt', '--receipt', [CompletionResultType]::ParameterName, 'Receipt number (default: made from the time and member number)')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'The staff member credited with the sale (R33)')
            [CompletionResult]::new('--points-used', '--points-used', [CompletionResultType]::ParameterName, 'Points redeemed against this receipt (R10, R11)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Compute and report everything, change nothing (no rejects file either: rejected rows are counted, and the first are listed on stderr)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;staff' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register one staff member, or many from a CSV file')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the staff (name, phone and ID number masked unless --include-pii)')
            [CompletionResult]::new('leave', 'leave', [CompletionResultType]::ParameterValue, 'A staff member leaves; their members move to another (R33, 谁开发谁负责)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;staff;add' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Full name (required without --file)')
            [CompletionResult]::new('--phone', '--phone', [CompletionResultType]::ParameterName, 'Mobile phone (staff cannot enroll themselves as members, R3)')
            [CompletionResult]::new('--id-number', '--id-number', [CompletionResultType]::ParameterName, 'Resident ID number (staff cannot enroll themselves as members, R3)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store they work in')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A CSV file of staff (`-` for stdin)')
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)')
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s encoding (default: detected)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;staff;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and ID number (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;staff;leave' {
            [CompletionResult]::new('--handover', '--handover', [CompletionResultType]::ParameterName, 'The staff code of who takes their members over')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;staff;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register one staff member, or many from a CSV file')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the staff (name, phone and ID number masked unless --include-pii)')
            [CompletionResult]::new('leave', 'leave', [CompletionResultType]::ParameterValue, 'A staff member leaves; their members move to another (R33, 谁开发谁负责)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;staff;help;add' {
            break
        }
        'vipctl;staff;help;list' {
            break
        }
        'vipctl;staff;help;leave' {
            break
        }
        'vipctl;staff;help;help' {
            break
        }
        'vipctl;member' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Profile, card, tier and its history, balance, points by expiry, recent entries')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List members, optionally by tier, store or staff')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a member''s details (R2 and R3 still hold), or their marketing consent')
            [CompletionResult]::new('replace-card', 'replace-card', [CompletionResultType]::ParameterValue, 'Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5)')
            [CompletionResult]::new('contacted', 'contacted', [CompletionResultType]::ParameterValue, 'Record a care call to a member; restarts the tier''s call cadence (R32)')
            [CompletionResult]::new('pin-tier', 'pin-tier', [CompletionResultType]::ParameterValue, 'Pin a member to a tier that recompute will not change, or unpin (R26)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge two records of one person into KEEP; DROP is closed, its cards blocked')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close a member: cards blocked, ledger and receipts kept')
            [CompletionResult]::new('erase', 'erase', [CompletionResultType]::ParameterValue, 'Erase a member''s personal data on request (PIPL), keeping the figures')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;member;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;list' {
            [CompletionResult]::new('--tier', '--tier', [CompletionResultType]::ParameterName, 'Only members in this tier (its code)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members served by this staff member')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone, ID number and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;update' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'New name')
            [CompletionResult]::new('--phone', '--phone', [CompletionResultType]::ParameterName, 'New mobile phone (R2: not another active member''s)')
            [CompletionResult]::new('--id-number', '--id-number', [CompletionResultType]::ParameterName, 'New resident ID number (R1, R2)')
            [CompletionResult]::new('--birthday', '--birthday', [CompletionResultType]::ParameterName, 'New birthday')
            [CompletionResult]::new('--gender', '--gender', [CompletionResultType]::ParameterName, 'M or F')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'New home store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'New staff member serving them (R33)')
            [CompletionResult]::new('--consent', '--consent', [CompletionResultType]::ParameterName, 'Marketing consent: yes or no')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;replace-card' {
            [CompletionResult]::new('--card', '--card', [CompletionResultType]::ParameterName, 'The new card''s number')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;contacted' {
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'What was said, in a few words')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;pin-tier' {
            [CompletionResult]::new('--tier', '--tier', [CompletionResultType]::ParameterName, 'The tier''s code')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--floor', '--floor', [CompletionResultType]::ParameterName, 'A floor instead of a freeze: never below the tier, still rises')
            [CompletionResult]::new('--unpin', '--unpin', [CompletionResultType]::ParameterName, 'Remove the pin: recompute ranks the member again')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;merge' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why the merge is forced (journalled with the operator)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Merge records with different ID numbers (needs --reason)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;close' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;erase' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;member;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Profile, card, tier and its history, balance, points by expiry, recent entries')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List members, optionally by tier, store or staff')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a member''s details (R2 and R3 still hold), or their marketing consent')
            [CompletionResult]::new('replace-card', 'replace-card', [CompletionResultType]::ParameterValue, 'Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5)')
            [CompletionResult]::new('contacted', 'contacted', [CompletionResultType]::ParameterValue, 'Record a care call to a member; restarts the tier''s call cadence (R32)')
            [CompletionResult]::new('pin-tier', 'pin-tier', [CompletionResultType]::ParameterValue, 'Pin a member to a tier that recompute will not change, or unpin (R26)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge two records of one person into KEEP; DROP is closed, its cards blocked')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close a member: cards blocked, ledger and receipts kept')
            [CompletionResult]::new('erase', 'erase', [CompletionResultType]::ParameterValue, 'Erase a member''s personal data on request (PIPL), keeping the figures')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;member;help;show' {
            break
        }
        'vipctl;member;help;list' {
            break
        }
        'vipctl;member;help;update' {
            break
        }
        'vipctl;member;help;replace-card' {
            break
        }
        'vipctl;member;help;contacted' {
            break
        }
        'vipctl;member;help;pin-tier' {
            break
        }
        'vipctl;member;help;merge' {
            break
        }
        'vipctl;member;help;close' {
            break
        }
        'vipctl;member;help;erase' {
            break
        }
        'vipctl;member;help;help' {
            break
        }
        'vipctl;redeem' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A CSV file of redemptions (`-` for stdin)')
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)')
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s encoding (default: detected)')
            [CompletionResult]::new('--member', '--member', [CompletionResultType]::ParameterName, 'Card number, member number or phone')
            [CompletionResult]::new('--points', '--points', [CompletionResultType]::ParameterName, 'Points to take (with --reward, must equal the reward''s points)')
            [CompletionResult]::new('--reward', '--reward', [CompletionResultType]::ParameterName, 'A reward code from the program''s catalogue')
            [CompletionResult]::new('--gift-price', '--gift-price', [CompletionResultType]::ParameterName, 'A gift listed at this price in yuan, priced by the program''s gift ladder (e.g. 1000 points up to 200 yuan, +500 points per 200 more)')
            [CompletionResult]::new('--used-by', '--used-by', [CompletionResultType]::ParameterName, 'Who used the points, with the holder''s consent (R18)')
            [CompletionResult]::new('--approved-by', '--approved-by', [CompletionResultType]::ParameterName, 'Who approved the use (R18)')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'A note kept with the entry')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('void', 'void', [CompletionResultType]::ParameterValue, 'Void a mistaken redemption on its own day; its points go back to the lots they came from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;redeem;void' {
            [CompletionResult]::new('--approved-by', '--approved-by', [CompletionResultType]::ParameterName, 'Who approved the void (kept in the entry''s note and the journal)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;redeem;help' {
            [CompletionResult]::new('void', 'void', [CompletionResultType]::ParameterValue, 'Void a mistaken redemption on its own day; its points go back to the lots they came from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;redeem;help;void' {
            break
        }
        'vipctl;redeem;help;help' {
            break
        }
        'vipctl;adjust' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Opening balances from a CSV file (`-` for stdin)')
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)')
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s encoding (default: detected)')
            [CompletionResult]::new('--member', '--member', [CompletionResultType]::ParameterName, 'Card number, member number or phone')
            [CompletionResult]::new('--points', '--points', [CompletionResultType]::ParameterName, 'Points to add (positive) or take (negative)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why: kept in the ledger')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--allow-debt', '--allow-debt', [CompletionResultType]::ParameterName, 'Let a negative adjustment take the balance below zero (shown as owed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;tier-recompute' {
            [CompletionResult]::new('--changes', '--changes', [CompletionResultType]::ParameterName, 'Write one CSV row per change (`-` for stdout; the summary then goes to stderr). Never the database or one of its files')
            [CompletionResult]::new('--changes-per-commit', '--changes-per-commit', [CompletionResultType]::ParameterName, 'Changes per committed group')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Compute and report, change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;year-end-reset' {
            [CompletionResult]::new('--year', '--year', [CompletionResultType]::ParameterName, 'The year whose points expire (it must be over, R27)')
            [CompletionResult]::new('--members-per-commit', '--members-per-commit', [CompletionResultType]::ParameterName, 'Members per committed chunk')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Compute and report, change nothing')
            [CompletionResult]::new('--allow-future-date', '--allow-future-date', [CompletionResultType]::ParameterName, 'Accept an --as-of/--at later than today: a rehearsal on a copy of the database')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;expire' {
            [CompletionResult]::new('--members-per-commit', '--members-per-commit', [CompletionResultType]::ParameterName, 'Members per committed chunk')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Compute and report, change nothing')
            [CompletionResult]::new('--allow-future-date', '--allow-future-date', [CompletionResultType]::ParameterName, 'Accept an --as-of/--at later than today: a rehearsal on a copy of the database')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;export' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output file (`-` for stdout, the default). Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output file (`-` for stdout, the default). Never the database or one of its files')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day of the period (ledger, receipts; in the program''s time zone)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day of the period, inclusive (default: --as-of)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Encrypt the export into an AES-256 ZIP at -o with the password in FILE (`-` for stdin; one trailing line break is dropped). Default for a full export: $VIPCTL_EXPORT_PASSWORD')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked phone, ID number, name and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('--excel', '--excel', [CompletionResultType]::ParameterName, 'Start with a UTF-8 byte-order mark for Excel')
            [CompletionResult]::new('--expiring', '--expiring', [CompletionResultType]::ParameterName, '`export tiers`: add points_expiring_30d and points_expiring_year_end')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('liability', 'liability', [CompletionResultType]::ParameterValue, 'Points outstanding and their value at the redemption value, with what expires soon')
            [CompletionResult]::new('tiers', 'tiers', [CompletionResultType]::ParameterValue, 'Members and spend per tier, with shares (R34)')
            [CompletionResult]::new('care', 'care', [CompletionResultType]::ParameterValue, 'The day''s follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32)')
            [CompletionResult]::new('candidates', 'candidates', [CompletionResultType]::ParameterValue, 'Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26)')
            [CompletionResult]::new('dormant', 'dormant', [CompletionResultType]::ParameterValue, 'Members with no purchase for at least N days (R31)')
            [CompletionResult]::new('birthdays', 'birthdays', [CompletionResultType]::ParameterValue, 'Birthdays today and in the next N − 1 days (R32)')
            [CompletionResult]::new('stores', 'stores', [CompletionResultType]::ParameterValue, 'Per store: member sales as a share of all sales, receipts, members enrolled (R33)')
            [CompletionResult]::new('staff', 'staff', [CompletionResultType]::ParameterValue, 'Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33)')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'The VIP top list by spend or points')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;report;liability' {
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group by tier, by the member''s store, or by the month the points expire')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;tiers' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day of the period (default: 364 days before --to)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day of the period, inclusive (default: --as-of)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;care' {
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'Birthdays within this many days (today counts as day 0)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;candidates' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;dormant' {
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'At least this many days since the last purchase')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;birthdays' {
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'Birthdays within this many days (today counts as day 0)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;stores' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day of the period (default: 364 days before --to)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day of the period, inclusive (default: --as-of)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;staff' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day of the period (default: 364 days before --to)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day of the period, inclusive (default: --as-of)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;top' {
            [CompletionResult]::new('--n', '--n', [CompletionResultType]::ParameterName, 'How many members to list')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Rank by spend in the period or by points balance')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day of the period (default: 364 days before --to)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day of the period, inclusive (default: --as-of)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Only members (or rows) of this store')
            [CompletionResult]::new('--staff', '--staff', [CompletionResultType]::ParameterName, 'Only members (or rows) of this staff member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--include-pii', '--include-pii', [CompletionResultType]::ParameterName, 'Unmasked name, phone and birthday (recorded with the operator, R35)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;report;help' {
            [CompletionResult]::new('liability', 'liability', [CompletionResultType]::ParameterValue, 'Points outstanding and their value at the redemption value, with what expires soon')
            [CompletionResult]::new('tiers', 'tiers', [CompletionResultType]::ParameterValue, 'Members and spend per tier, with shares (R34)')
            [CompletionResult]::new('care', 'care', [CompletionResultType]::ParameterValue, 'The day''s follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32)')
            [CompletionResult]::new('candidates', 'candidates', [CompletionResultType]::ParameterValue, 'Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26)')
            [CompletionResult]::new('dormant', 'dormant', [CompletionResultType]::ParameterValue, 'Members with no purchase for at least N days (R31)')
            [CompletionResult]::new('birthdays', 'birthdays', [CompletionResultType]::ParameterValue, 'Birthdays today and in the next N − 1 days (R32)')
            [CompletionResult]::new('stores', 'stores', [CompletionResultType]::ParameterValue, 'Per store: member sales as a share of all sales, receipts, members enrolled (R33)')
            [CompletionResult]::new('staff', 'staff', [CompletionResultType]::ParameterValue, 'Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33)')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'The VIP top list by spend or points')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;report;help;liability' {
            break
        }
        'vipctl;report;help;tiers' {
            break
        }
        'vipctl;report;help;care' {
            break
        }
        'vipctl;report;help;candidates' {
            break
        }
        'vipctl;report;help;dormant' {
            break
        }
        'vipctl;report;help;birthdays' {
            break
        }
        'vipctl;report;help;stores' {
            break
        }
        'vipctl;report;help;staff' {
            break
        }
        'vipctl;report;help;top' {
            break
        }
        'vipctl;report;help;help' {
            break
        }
        'vipctl;import' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Reverse every receipt an import wrote, by new ledger entries')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;import;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;import;undo' {
            [CompletionResult]::new('--receipts-per-commit', '--receipts-per-commit', [CompletionResultType]::ParameterName, 'Receipts per committed chunk')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Compute and report everything, change nothing')
            [CompletionResult]::new('--unfinished', '--unfinished', [CompletionResultType]::ParameterName, 'Undo an import that stopped part-way (make sure it is not running)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;import;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Reverse every receipt an import wrote, by new ledger entries')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;import;help;list' {
            break
        }
        'vipctl;import;help;undo' {
            break
        }
        'vipctl;import;help;help' {
            break
        }
        'vipctl;simulate' {
            [CompletionResult]::new('--program', '--program', [CompletionResultType]::ParameterName, 'The draft program file (`-` for stdin); it is not stored')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First receipt date replayed (default: the first)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last receipt date replayed, and the date tiers are judged on (default: --as-of)')
            [CompletionResult]::new('--changes', '--changes', [CompletionResultType]::ParameterName, 'Write one CSV row per member (`-` for stdout; the summary then goes to stderr). Never the database, one of its files or the draft')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;audit' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;journal' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only rows from the start of this date (in the program''s time zone) on')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only rows of this kind')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;migrate' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;db' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;db;copy' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where to copy to: `postgres://user@host/dbname` (an empty database) or the path of a new SQLite file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;db;help' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;db;help;copy' {
            break
        }
        'vipctl;db;help;help' {
            break
        }
        'vipctl;man' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the pages'' file names instead of printing one')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;completions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who is making the change (stored with every change); default $USER, else $LOGNAME')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print records and summaries')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'The working date, in the program''s time zone (default: today)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program''s time zone, or RFC 3339 with an offset (default: now)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vipctl;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the database and load a program')
            [CompletionResult]::new('program', 'program', [CompletionResultType]::ParameterValue, 'Show, set or check the points program')
            [CompletionResult]::new('enroll', 'enroll', [CompletionResultType]::ParameterValue, 'Enrol one member from flags, or many from a CSV file (R1–R6)')
            [CompletionResult]::new('purchase', 'purchase', [CompletionResultType]::ParameterValue, 'Credit points from till receipts: one from flags, or the nightly file (R7–R15)')
            [CompletionResult]::new('staff', 'staff', [CompletionResultType]::ParameterValue, 'Register and list the staff who serve members (R3, R33)')
            [CompletionResult]::new('member', 'member', [CompletionResultType]::ParameterValue, 'Look up and manage members')
            [CompletionResult]::new('redeem', 'redeem', [CompletionResultType]::ParameterValue, 'Redeem points for a reward or a cash offset, oldest-expiring first (R16–R18)')
            [CompletionResult]::new('adjust', 'adjust', [CompletionResultType]::ParameterValue, 'A manual correction entry in the ledger (R21), or opening balances from a file')
            [CompletionResult]::new('tier-recompute', 'tier-recompute', [CompletionResultType]::ParameterValue, 'Re-rank every member by the ladder''s conditions as of a date (R22–R26)')
            [CompletionResult]::new('year-end-reset', 'year-end-reset', [CompletionResultType]::ParameterValue, 'Expire the points a calendar-year program ends with a year (R27–R30)')
            [CompletionResult]::new('expire', 'expire', [CompletionResultType]::ParameterValue, 'Expire what a per-lot or inactivity program ends by a date (R29, R30)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export tiers, members, the ledger or receipts as CSV (R34, R35)')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Reports for analysts (R34)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'The receipts files imported (`purchase --file`), and undoing one')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'What a draft program would change: points, tiers, liability; writes nothing')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Check every invariant of the ledger; exit 1 naming each violation')
            [CompletionResult]::new('journal', 'journal', [CompletionResultType]::ParameterValue, 'Who did what and when: exports, program changes, adjustments, undos (R35)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Bring an older database''s schema up to date (after copying it to FILE.pre-vN)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Copy the database to an empty PostgreSQL database or a new SQLite file, verified')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a manual page (roff), generated from the same definitions as --help')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vipctl;help;init' {
            break
        }
        'vipctl;help;program' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the program in force (its TOML, or in plain words with --explain)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a new program version (old versions are kept)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a program file and explain it, without storing it')
            [CompletionResult]::new('versions', 'versions', [CompletionResultType]::ParameterValue, 'List the stored program versions')
            break
        }
        'vipctl;help;program;show' {
            break
        }
        'vipctl;help;program;set' {
            break
        }
        'vipctl;help;program;check' {
            break
        }
        'vipctl;help;program;versions' {
            break
        }
        'vipctl;help;enroll' {
            break
        }
        'vipctl;help;purchase' {
            break
        }
        'vipctl;help;staff' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register one staff member, or many from a CSV file')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the staff (name, phone and ID number masked unless --include-pii)')
            [CompletionResult]::new('leave', 'leave', [CompletionResultType]::ParameterValue, 'A staff member leaves; their members move to another (R33, 谁开发谁负责)')
            break
        }
        'vipctl;help;staff;add' {
            break
        }
        'vipctl;help;staff;list' {
            break
        }
        'vipctl;help;staff;leave' {
            break
        }
        'vipctl;help;member' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Profile, card, tier and its history, balance, points by expiry, recent entries')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List members, optionally by tier, store or staff')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a member''s details (R2 and R3 still hold), or their marketing consent')
            [CompletionResult]::new('replace-card', 'replace-card', [CompletionResultType]::ParameterValue, 'Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5)')
            [CompletionResult]::new('contacted', 'contacted', [CompletionResultType]::ParameterValue, 'Record a care call to a member; restarts the tier''s call cadence (R32)')
            [CompletionResult]::new('pin-tier', 'pin-tier', [CompletionResultType]::ParameterValue, 'Pin a member to a tier that recompute will not change, or unpin (R26)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge two records of one person into KEEP; DROP is closed, its cards blocked')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close a member: cards blocked, ledger and receipts kept')
            [CompletionResult]::new('erase', 'erase', [CompletionResultType]::ParameterValue, 'Erase a member''s personal data on request (PIPL), keeping the figures')
            break
        }
        'vipctl;help;member;show' {
            break
        }
        'vipctl;help;member;list' {
            break
        }
        'vipctl;help;member;update' {
            break
        }
        'vipctl;help;member;replace-card' {
            break
        }
        'vipctl;help;member;contacted' {
            break
        }
        'vipctl;help;member;pin-tier' {
            break
        }
        'vipctl;help;member;merge' {
            break
        }
        'vipctl;help;member;close' {
            break
        }
        'vipctl;help;member;erase' {
            break
        }
        'vipctl;help;redeem' {
            [CompletionResult]::new('void', 'void', [CompletionResultType]::ParameterValue, 'Void a mistaken redemption on its own day; its points go back to the lots they came from')
            break
        }
        'vipctl;help;redeem;void' {
            break
        }
        'vipctl;help;adjust' {
            break
        }
        'vipctl;help;tier-recompute' {
            break
        }
        'vipctl;help;year-end-reset' {
            break
        }
        'vipctl;help;expire' {
            break
        }
        'vipctl;help;export' {
            break
        }
        'vipctl;help;report' {
            [CompletionResult]::new('liability', 'liability', [CompletionResultType]::ParameterValue, 'Points outstanding and their value at the redemption value, with what expires soon')
            [CompletionResult]::new('tiers', 'tiers', [CompletionResultType]::ParameterValue, 'Members and spend per tier, with shares (R34)')
            [CompletionResult]::new('care', 'care', [CompletionResultType]::ParameterValue, 'The day''s follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32)')
            [CompletionResult]::new('candidates', 'candidates', [CompletionResultType]::ParameterValue, 'Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26)')
            [CompletionResult]::new('dormant', 'dormant', [CompletionResultType]::ParameterValue, 'Members with no purchase for at least N days (R31)')
            [CompletionResult]::new('birthdays', 'birthdays', [CompletionResultType]::ParameterValue, 'Birthdays today and in the next N − 1 days (R32)')
            [CompletionResult]::new('stores', 'stores', [CompletionResultType]::ParameterValue, 'Per store: member sales as a share of all sales, receipts, members enrolled (R33)')
            [CompletionResult]::new('staff', 'staff', [CompletionResultType]::ParameterValue, 'Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33)')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'The VIP top list by spend or points')
            break
        }
        'vipctl;help;report;liability' {
            break
        }
        'vipctl;help;report;tiers' {
            break
        }
        'vipctl;help;report;care' {
            break
        }
        'vipctl;help;report;candidates' {
            break
        }
        'vipctl;help;report;dormant' {
            break
        }
        'vipctl;help;report;birthdays' {
            break
        }
        'vipctl;help;report;stores' {
            break
        }
        'vipctl;help;report;staff' {
            break
        }
        'vipctl;help;report;top' {
            break
        }
        'vipctl;help;import' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Reverse every receipt an import wrote, by new ledger entries')
            break
        }
        'vipctl;help;import;list' {
            break
        }
        'vipctl;help;import;undo' {
            break
        }
        'vipctl;help;simulate' {
            break
        }
        'vipctl;help;audit' {
            break
        }
        'vipctl;help;journal' {
            break
        }
        'vipctl;help;migrate' {
            break
        }
        'vipctl;help;db' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified')
            break
        }
        'vipctl;help;db;copy' {
            break
        }
        'vipctl;help;man' {
            break
        }
        'vipctl;help;completions' {
            break
        }
        'vipctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
