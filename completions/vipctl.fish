# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vipctl_global_optspecs
    string join \n db= operator= format= q/quiet as-of= at= wait= h/help V/version
end

function __fish_vipctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vipctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vipctl_using_subcommand
    set -l cmd (__fish_vipctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vipctl -n "__fish_vipctl_needs_command" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_needs_command" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_needs_command" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_needs_command" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_needs_command" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_needs_command" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_needs_command" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_needs_command" -s V -l version -d 'Print version'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "init" -d 'Create the database and load a program'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "program" -d 'Show, set or check the points program'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "enroll" -d 'Enrol one member from flags, or many from a CSV file (R1–R6)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "purchase" -d 'Credit points from till receipts: one from flags, or the nightly file (R7–R15)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "staff" -d 'Register and list the staff who serve members (R3, R33)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "member" -d 'Look up and manage members'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "redeem" -d 'Redeem points for a reward or a cash offset, oldest-expiring first (R16–R18)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "adjust" -d 'A manual correction entry in the ledger (R21), or opening balances from a file'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "tier-recompute" -d 'Re-rank every member by the ladder\'s conditions as of a date (R22–R26)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "year-end-reset" -d 'Expire the points a calendar-year program ends with a year (R27–R30)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "expire" -d 'Expire what a per-lot or inactivity program ends by a date (R29, R30)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "export" -d 'Export tiers, members, the ledger or receipts as CSV (R34, R35)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "report" -d 'Reports for analysts (R34)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "import" -d 'The receipts files imported (`purchase --file`), and undoing one'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "simulate" -d 'What a draft program would change: points, tiers, liability; writes nothing'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "audit" -d 'Check every invariant of the ledger; exit 1 naming each violation'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "journal" -d 'Who did what and when: exports, program changes, adjustments, undos (R35)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "migrate" -d 'Bring an older database\'s schema up to date (after copying it to FILE.pre-vN)'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "db" -d 'Copy the database to an empty PostgreSQL database or a new SQLite file, verified'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "man" -d 'Print a manual page (roff), generated from the same definitions as --help'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c vipctl -n "__fish_vipctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l program -d 'The program file (TOML); without it, the built-in default program' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -f -a "show" -d 'Print the program in force (its TOML, or in plain words with --explain)'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -f -a "set" -d 'Store a new program version (old versions are kept)'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -f -a "check" -d 'Validate a program file and explain it, without storing it'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -f -a "versions" -d 'List the stored program versions'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and not __fish_seen_subcommand_from show set check versions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l version -d 'An older version (see `program versions`)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -l explain -d 'Explain in plain words instead of printing the TOML'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from versions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the program in force (its TOML, or in plain words with --explain)'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from help" -f -a "set" -d 'Store a new program version (old versions are kept)'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a program file and explain it, without storing it'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from help" -f -a "versions" -d 'List the stored program versions'
complete -c vipctl -n "__fish_vipctl_using_subcommand program; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l file -d 'A CSV file of members (`-` for stdin)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l rejects -d 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l encoding -d 'The file\'s encoding (default: detected)' -r -f -a "auto\t'UTF-8 (BOM or not) if most lines around the first non-ASCII byte are valid UTF-8, else GB18030; each row is then checked against it'
utf-8\t''
gb18030\t'GB18030, a superset of GBK and GB2312'"
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l name -d 'The member\'s name as on their ID (required without --file)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l phone -d 'Mobile phone, 11 digits (R2: one active member per phone)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l id-number -d 'Resident ID number, 18 characters, checksum checked (R1, R2)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l birthday -d 'Default: the birth date in an 18-digit resident ID' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l gender -d 'M or F' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l card -d 'Card number (default: the member number)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l store -d 'The store that enrolled them (R33)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l staff -d 'The staff member who enrolled them' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l receipt -d 'A qualifying receipt with no member, STORE:RECEIPT (repeatable, R6)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l consent -d 'Marketing consent: yes or no (no: never on care or birthday lists)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand enroll" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l file -d 'A receipts CSV file (`-` for stdin)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l rejects -d 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr). Never the database, one of its files, or the input' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l encoding -d 'The file\'s encoding (default: detected)' -r -f -a "auto\t'UTF-8 (BOM or not) if most lines around the first non-ASCII byte are valid UTF-8, else GB18030; each row is then checked against it'
utf-8\t''
gb18030\t'GB18030, a superset of GBK and GB2312'"
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l rows-per-commit -d 'Rows per committed chunk' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l member -d 'Card number, member number or phone' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l return-of -d 'Record a return of this sale (same --store) instead of a sale (R20)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l amount -d 'Money paid, in yuan' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l list-amount -d 'The list price, for discount bands (R9)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l category -d 'Product category, for category rates and no-points categories (R8)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l store -d 'Store code (with --receipt, identifies the receipt)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l receipt -d 'Receipt number (default: made from the time and member number)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l staff -d 'The staff member credited with the sale (R33)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l points-used -d 'Points redeemed against this receipt (R10, R11)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -l dry-run -d 'Compute and report everything, change nothing (no rejects file either: rejected rows are counted, and the first are listed on stderr)'
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand purchase" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -f -a "add" -d 'Register one staff member, or many from a CSV file'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -f -a "list" -d 'List the staff (name, phone and ID number masked unless --include-pii)'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -f -a "leave" -d 'A staff member leaves; their members move to another (R33, 谁开发谁负责)'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and not __fish_seen_subcommand_from add list leave help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l name -d 'Full name (required without --file)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l phone -d 'Mobile phone (staff cannot enroll themselves as members, R3)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l id-number -d 'Resident ID number (staff cannot enroll themselves as members, R3)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l store -d 'The store they work in' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l file -d 'A CSV file of staff (`-` for stdin)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l rejects -d 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l encoding -d 'The file\'s encoding (default: detected)' -r -f -a "auto\t'UTF-8 (BOM or not) if most lines around the first non-ASCII byte are valid UTF-8, else GB18030; each row is then checked against it'
utf-8\t''
gb18030\t'GB18030, a superset of GBK and GB2312'"
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -l include-pii -d 'Unmasked name, phone and ID number (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l handover -d 'The staff code of who takes their members over' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from leave" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register one staff member, or many from a CSV file'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the staff (name, phone and ID number masked unless --include-pii)'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "leave" -d 'A staff member leaves; their members move to another (R33, 谁开发谁负责)'
complete -c vipctl -n "__fish_vipctl_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "show" -d 'Profile, card, tier and its history, balance, points by expiry, recent entries'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "list" -d 'List members, optionally by tier, store or staff'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "update" -d 'Change a member\'s details (R2 and R3 still hold), or their marketing consent'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "replace-card" -d 'Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "contacted" -d 'Record a care call to a member; restarts the tier\'s call cadence (R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "pin-tier" -d 'Pin a member to a tier that recompute will not change, or unpin (R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "merge" -d 'Merge two records of one person into KEEP; DROP is closed, its cards blocked'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "close" -d 'Close a member: cards blocked, ledger and receipts kept'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "erase" -d 'Erase a member\'s personal data on request (PIPL), keeping the figures'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and not __fish_seen_subcommand_from show list update replace-card contacted pin-tier merge close erase help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l tier -d 'Only members in this tier (its code)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l store -d 'Only members of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l staff -d 'Only members served by this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -l include-pii -d 'Unmasked name, phone, ID number and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l name -d 'New name' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l phone -d 'New mobile phone (R2: not another active member\'s)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l id-number -d 'New resident ID number (R1, R2)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l birthday -d 'New birthday' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l gender -d 'M or F' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l store -d 'New home store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l staff -d 'New staff member serving them (R33)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l consent -d 'Marketing consent: yes or no' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l card -d 'The new card\'s number' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from replace-card" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l note -d 'What was said, in a few words' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from contacted" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l tier -d 'The tier\'s code' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l floor -d 'A floor instead of a freeze: never below the tier, still rises'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -l unpin -d 'Remove the pin: recompute ranks the member again'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from pin-tier" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l reason -d 'Why the merge is forced (journalled with the operator)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -l force -d 'Merge records with different ID numbers (needs --reason)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from close" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from erase" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "show" -d 'Profile, card, tier and its history, balance, points by expiry, recent entries'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "list" -d 'List members, optionally by tier, store or staff'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a member\'s details (R2 and R3 still hold), or their marketing consent'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "replace-card" -d 'Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "contacted" -d 'Record a care call to a member; restarts the tier\'s call cadence (R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "pin-tier" -d 'Pin a member to a tier that recompute will not change, or unpin (R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Merge two records of one person into KEEP; DROP is closed, its cards blocked'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "close" -d 'Close a member: cards blocked, ledger and receipts kept'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "erase" -d 'Erase a member\'s personal data on request (PIPL), keeping the figures'
complete -c vipctl -n "__fish_vipctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l file -d 'A CSV file of redemptions (`-` for stdin)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l rejects -d 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l encoding -d 'The file\'s encoding (default: detected)' -r -f -a "auto\t'UTF-8 (BOM or not) if most lines around the first non-ASCII byte are valid UTF-8, else GB18030; each row is then checked against it'
utf-8\t''
gb18030\t'GB18030, a superset of GBK and GB2312'"
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l member -d 'Card number, member number or phone' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l points -d 'Points to take (with --reward, must equal the reward\'s points)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l reward -d 'A reward code from the program\'s catalogue' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l gift-price -d 'A gift listed at this price in yuan, priced by the program\'s gift ladder (e.g. 1000 points up to 200 yuan, +500 points per 200 more)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l used-by -d 'Who used the points, with the holder\'s consent (R18)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l approved-by -d 'Who approved the use (R18)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l note -d 'A note kept with the entry' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -f -a "void" -d 'Void a mistaken redemption on its own day; its points go back to the lots they came from'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and not __fish_seen_subcommand_from void help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l approved-by -d 'Who approved the void (kept in the entry\'s note and the journal)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from void" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from help" -f -a "void" -d 'Void a mistaken redemption on its own day; its points go back to the lots they came from'
complete -c vipctl -n "__fish_vipctl_using_subcommand redeem; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l file -d 'Opening balances from a CSV file (`-` for stdin)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l rejects -d 'Where rejected rows go (default: the input path with .rejects.csv; `-` for stdout, the summary then goes to stderr)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l encoding -d 'The file\'s encoding (default: detected)' -r -f -a "auto\t'UTF-8 (BOM or not) if most lines around the first non-ASCII byte are valid UTF-8, else GB18030; each row is then checked against it'
utf-8\t''
gb18030\t'GB18030, a superset of GBK and GB2312'"
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l member -d 'Card number, member number or phone' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l points -d 'Points to add (positive) or take (negative)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l reason -d 'Why: kept in the ledger' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -l allow-debt -d 'Let a negative adjustment take the balance below zero (shown as owed)'
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand adjust" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l changes -d 'Write one CSV row per change (`-` for stdout; the summary then goes to stderr). Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l changes-per-commit -d 'Changes per committed group' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -l dry-run -d 'Compute and report, change nothing'
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand tier-recompute" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l year -d 'The year whose points expire (it must be over, R27)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l members-per-commit -d 'Members per committed chunk' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l dry-run -d 'Compute and report, change nothing'
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -l allow-future-date -d 'Accept an --as-of/--at later than today: a rehearsal on a copy of the database'
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand year-end-reset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l members-per-commit -d 'Members per committed chunk' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l dry-run -d 'Compute and report, change nothing'
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -l allow-future-date -d 'Accept an --as-of/--at later than today: a rehearsal on a copy of the database'
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand expire" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -s o -l output -d 'Output file (`-` for stdout, the default). Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l from -d 'First day of the period (ledger, receipts; in the program\'s time zone)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l to -d 'Last day of the period, inclusive (default: --as-of)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l password-file -d 'Encrypt the export into an AES-256 ZIP at -o with the password in FILE (`-` for stdin; one trailing line break is dropped). Default for a full export: $VIPCTL_EXPORT_PASSWORD' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l include-pii -d 'Unmasked phone, ID number, name and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l excel -d 'Start with a UTF-8 byte-order mark for Excel'
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -l expiring -d '`export tiers`: add points_expiring_30d and points_expiring_year_end'
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "liability" -d 'Points outstanding and their value at the redemption value, with what expires soon'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "tiers" -d 'Members and spend per tier, with shares (R34)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "care" -d 'The day\'s follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "candidates" -d 'Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "dormant" -d 'Members with no purchase for at least N days (R31)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "birthdays" -d 'Birthdays today and in the next N − 1 days (R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "stores" -d 'Per store: member sales as a share of all sales, receipts, members enrolled (R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "staff" -d 'Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "top" -d 'The VIP top list by spend or points'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and not __fish_seen_subcommand_from liability tiers care candidates dormant birthdays stores staff top help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l by -d 'Group by tier, by the member\'s store, or by the month the points expire' -r -f -a "tier\t''
store\t''
expiry-month\t''"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from liability" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l from -d 'First day of the period (default: 364 days before --to)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l to -d 'Last day of the period, inclusive (default: --as-of)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from tiers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l days -d 'Birthdays within this many days (today counts as day 0)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from care" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from candidates" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l days -d 'At least this many days since the last purchase' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from dormant" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l days -d 'Birthdays within this many days (today counts as day 0)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from birthdays" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l from -d 'First day of the period (default: 364 days before --to)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l to -d 'Last day of the period, inclusive (default: --as-of)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from stores" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l from -d 'First day of the period (default: 364 days before --to)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l to -d 'Last day of the period, inclusive (default: --as-of)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from staff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l n -d 'How many members to list' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l by -d 'Rank by spend in the period or by points balance' -r -f -a "spend\t''
points\t''"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l from -d 'First day of the period (default: 364 days before --to)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l to -d 'Last day of the period, inclusive (default: --as-of)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l store -d 'Only members (or rows) of this store' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l staff -d 'Only members (or rows) of this staff member' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -s o -l output -d 'Write the report to FILE instead of standard output: an Excel workbook when FILE ends in .xlsx (typed columns, filters, for `report tiers` a chart), else in --format. Never the database or one of its files' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -l include-pii -d 'Unmasked name, phone and birthday (recorded with the operator, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "liability" -d 'Points outstanding and their value at the redemption value, with what expires soon'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "tiers" -d 'Members and spend per tier, with shares (R34)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "care" -d 'The day\'s follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "candidates" -d 'Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "dormant" -d 'Members with no purchase for at least N days (R31)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "birthdays" -d 'Birthdays today and in the next N − 1 days (R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "stores" -d 'Per store: member sales as a share of all sales, receipts, members enrolled (R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "staff" -d 'Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "top" -d 'The VIP top list by spend or points'
complete -c vipctl -n "__fish_vipctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -f -a "list" -d 'Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -f -a "undo" -d 'Reverse every receipt an import wrote, by new ledger entries'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and not __fish_seen_subcommand_from list undo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l receipts-per-commit -d 'Receipts per committed chunk' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l dry-run -d 'Compute and report everything, change nothing'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -l unfinished -d 'Undo an import that stopped part-way (make sure it is not running)'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from undo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "undo" -d 'Reverse every receipt an import wrote, by new ledger entries'
complete -c vipctl -n "__fish_vipctl_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l program -d 'The draft program file (`-` for stdin); it is not stored' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l from -d 'First receipt date replayed (default: the first)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l to -d 'Last receipt date replayed, and the date tiers are judged on (default: --as-of)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l changes -d 'Write one CSV row per member (`-` for stdout; the summary then goes to stderr). Never the database, one of its files or the draft' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand simulate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l since -d 'Only rows from the start of this date (in the program\'s time zone) on' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l kind -d 'Only rows of this kind' -r -f -a "export\t'Data taken out: exports, full data shown with --include-pii'
change\t'Changes: program changes, imports, adjustments, undos, erasures, …'"
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand journal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -f -a "copy" -d 'Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and not __fish_seen_subcommand_from copy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l to -d 'Where to copy to: `postgres://user@host/dbname` (an empty database) or the path of a new SQLite file' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "copy" -d 'Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified'
complete -c vipctl -n "__fish_vipctl_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -l list -d 'List the pages\' file names instead of printing one'
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -l db -d 'The database: a SQLite file, or a PostgreSQL 15+ server as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password)' -r -F
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -l operator -d 'Who is making the change (stored with every change); default $USER, else $LOGNAME' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -l format -d 'How to print records and summaries' -r -f -a "table\t'A table for people'
csv\t'CSV with a header row'
json\t'One JSON document with snake_case keys'"
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -l as-of -d 'The working date, in the program\'s time zone (default: today)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -l at -d 'The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program\'s time zone, or RFC 3339 with an offset (default: now)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -l wait -d 'How long to wait for another process that is writing to the database (an import, a reset) before giving up with exit 1; 0 to 86400 (a day)' -r
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -s q -l quiet -d 'No progress bar'
complete -c vipctl -n "__fish_vipctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "init" -d 'Create the database and load a program'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "program" -d 'Show, set or check the points program'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "enroll" -d 'Enrol one member from flags, or many from a CSV file (R1–R6)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "purchase" -d 'Credit points from till receipts: one from flags, or the nightly file (R7–R15)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "staff" -d 'Register and list the staff who serve members (R3, R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "member" -d 'Look up and manage members'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "redeem" -d 'Redeem points for a reward or a cash offset, oldest-expiring first (R16–R18)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "adjust" -d 'A manual correction entry in the ledger (R21), or opening balances from a file'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "tier-recompute" -d 'Re-rank every member by the ladder\'s conditions as of a date (R22–R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "year-end-reset" -d 'Expire the points a calendar-year program ends with a year (R27–R30)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "expire" -d 'Expire what a per-lot or inactivity program ends by a date (R29, R30)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "export" -d 'Export tiers, members, the ledger or receipts as CSV (R34, R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "report" -d 'Reports for analysts (R34)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "import" -d 'The receipts files imported (`purchase --file`), and undoing one'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "simulate" -d 'What a draft program would change: points, tiers, liability; writes nothing'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "audit" -d 'Check every invariant of the ledger; exit 1 naming each violation'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "journal" -d 'Who did what and when: exports, program changes, adjustments, undos (R35)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "migrate" -d 'Bring an older database\'s schema up to date (after copying it to FILE.pre-vN)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "db" -d 'Copy the database to an empty PostgreSQL database or a new SQLite file, verified'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "man" -d 'Print a manual page (roff), generated from the same definitions as --help'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and not __fish_seen_subcommand_from init program enroll purchase staff member redeem adjust tier-recompute year-end-reset expire export report import simulate audit journal migrate db man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from program" -f -a "show" -d 'Print the program in force (its TOML, or in plain words with --explain)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from program" -f -a "set" -d 'Store a new program version (old versions are kept)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from program" -f -a "check" -d 'Validate a program file and explain it, without storing it'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from program" -f -a "versions" -d 'List the stored program versions'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from staff" -f -a "add" -d 'Register one staff member, or many from a CSV file'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from staff" -f -a "list" -d 'List the staff (name, phone and ID number masked unless --include-pii)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from staff" -f -a "leave" -d 'A staff member leaves; their members move to another (R33, 谁开发谁负责)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "show" -d 'Profile, card, tier and its history, balance, points by expiry, recent entries'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "list" -d 'List members, optionally by tier, store or staff'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "update" -d 'Change a member\'s details (R2 and R3 still hold), or their marketing consent'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "replace-card" -d 'Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "contacted" -d 'Record a care call to a member; restarts the tier\'s call cadence (R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "pin-tier" -d 'Pin a member to a tier that recompute will not change, or unpin (R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "merge" -d 'Merge two records of one person into KEEP; DROP is closed, its cards blocked'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "close" -d 'Close a member: cards blocked, ledger and receipts kept'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "erase" -d 'Erase a member\'s personal data on request (PIPL), keeping the figures'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from redeem" -f -a "void" -d 'Void a mistaken redemption on its own day; its points go back to the lots they came from'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "liability" -d 'Points outstanding and their value at the redemption value, with what expires soon'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "tiers" -d 'Members and spend per tier, with shares (R34)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "care" -d 'The day\'s follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "candidates" -d 'Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "dormant" -d 'Members with no purchase for at least N days (R31)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "birthdays" -d 'Birthdays today and in the next N − 1 days (R32)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "stores" -d 'Per store: member sales as a share of all sales, receipts, members enrolled (R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "staff" -d 'Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33)'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "top" -d 'The VIP top list by spend or points'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "list" -d 'Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "undo" -d 'Reverse every receipt an import wrote, by new ledger entries'
complete -c vipctl -n "__fish_vipctl_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "copy" -d 'Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified'
