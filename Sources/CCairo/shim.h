// Cairo's image surfaces, PDF and SVG back ends.
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
