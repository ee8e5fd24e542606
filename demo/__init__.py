"""Demo input files (applications, a complaint, a sweep) used by ``starter.py demo`` and the README's examples;
a package only so that an installed ``kz-starter demo`` finds them."""
