package relayer

import (
	"context"
	"errors"
	"fmt"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// ErrCityNotRegistered is returned when a chain's city registry does not name the path's client for
// the city at the other end: a did channel cannot open over it, and packets over it are refused.
var ErrCityNotRegistered = errors.New("city not registered")

// CityNotRegisteredError says which chain must recognise which city, and how its admin does it.
type CityNotRegisteredError struct {
	Chain    string // the chain whose registry lacks the entry
	City     string // the city chain it must recognise
	ClientID string // the client on Chain that tracks City (created by link)
	// Registered is the client the registry names for City instead, if any.
	Registered string
}

func (e *CityNotRegisteredError) Error() string {
	cmd := fmt.Sprintf("citychaind tx did register-city %s %s --from <registry-admin> --chain-id %s", e.City, e.ClientID, e.Chain)
	if e.Registered != "" {
		return fmt.Sprintf("%s recognises %s as client %s, not %s: if %s is the right client (check its trust root out of band), its registry admin runs: %s",
			e.Chain, e.City, e.Registered, e.ClientID, e.ClientID, cmd)
	}
	return fmt.Sprintf("%s does not recognise %s: after checking client %s's trust root out of band, its registry admin runs: %s",
		e.Chain, e.City, e.ClientID, cmd)
}

func (e *CityNotRegisteredError) Unwrap() error { return ErrCityNotRegistered }

// IsDID reports whether the path is a did path (port did at either end).
func (p *Path) IsDID() bool { return p.A.PortID == didtypes.PortID || p.B.PortID == didtypes.PortID }

// RegisteredClient reads, with a proof checked against e's verified app hash, the client e's city
// registry names for city ("" if none).
func RegisteredClient(ctx context.Context, check ProofChecker, e *End, city string) (string, error) {
	p, _, err := e.verifiedRead(ctx, check, didtypes.StoreKey, didtypes.CityKey(city))
	if err != nil {
		return "", fmt.Errorf("read city registry of %s for %s: %w", e.ChainID(), city, err)
	}
	return string(p.Value), nil
}

// checkCity checks that e's registry names e's client for the city at the other end of the path.
func checkCity(ctx context.Context, check ProofChecker, e, other *End) error {
	got, err := RegisteredClient(ctx, check, e, other.ChainID())
	if err != nil {
		return err
	}
	if got == e.ClientID {
		return nil
	}
	return &CityNotRegisteredError{Chain: e.ChainID(), City: other.ChainID(), ClientID: e.ClientID, Registered: got}
}

// checkCities runs before a did channel is opened: each chain's registry must name the path's client
// for the other city. With Register set (a devnet, whose admin key the caller holds), a missing entry
// is registered and reported as a step; otherwise the error names the admin command to run.
func (l *Linker) checkCities(ctx context.Context, p *Path) error {
	var errs []error
	for _, pair := range [][2]*End{{p.A, p.B}, {p.B, p.A}} {
		e, other := pair[0], pair[1]
		err := checkCity(ctx, l.Check, e, other)
		var nr *CityNotRegisteredError
		if errors.As(err, &nr) && l.Register != nil {
			h, rerr := l.Register(ctx, e.ChainID(), other.ChainID(), e.ClientID)
			if rerr != nil {
				return fmt.Errorf("register %s on %s as client %s: %w", other.ChainID(), e.ChainID(), e.ClientID, rerr)
			}
			if derr := l.done(ctx, e, Step{Chain: e.ChainID(), Action: "recognise " + other.ChainID(), ID: e.ClientID, Height: h}); derr != nil {
				return derr
			}
			err = checkCity(ctx, l.Check, e, other)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
